// Two tiers: the host's own directory and the fleet's shared store (Redis), so that a host
// restarted while Redis is down still staples from its disk at once; writes go to both. The
// lease is the shared one, or the directory's while the shared store fails, so that the workers of
// one host still make one request between them.
// The store does not know the certificate, so it judges no copy: loadCopies shows the engine both
// tiers' copies; the engine verifies each and chooses the newest acceptable one, and only that
// one is written back, to a tier that held nothing, an older copy or an unacceptable one (Redis
// restarted empty, flushed, a replica promoted with stale data, a bad value from a fleet member).
// Nothing Redis holds can replace or hide the host's own acceptable staple.

import { StoreError } from './store-files.ts';
import { copiesOf, type Lease, type StapleStore, type StoredCopies } from './store.ts';

/** Two stores as one: a local one (read first, always written) over a shared one (e.g. Redis), so that stapling never depends on the shared one being up. */
export class TieredStore implements StapleStore {
  readonly description: string;

  constructor(
    readonly local: StapleStore,
    readonly shared: StapleStore,
  ) {
    this.description = `${shared.description}, over ${local.description}`;
  }

  /** The host's own copy, else the shared one, unjudged and written nowhere (the engine uses loadCopies). */
  async load(key: string): Promise<Buffer | null> {
    const { copies } = await this.loadCopies(key);
    return copies[0] ?? null;
  }

  async loadCopies(key: string): Promise<StoredCopies> {
    const [local, shared] = await Promise.allSettled([copiesOf(this.local, key), copiesOf(this.shared, key)]);
    const tiers = [local, shared].flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const copies: Buffer[] = [];
    for (const der of tiers.flatMap((t) => t.copies)) if (!copies.some((c) => c.equals(der))) copies.push(der);
    // Only the local tier's failure fails a load (as for every other call): the shared store logs
    // its own outage once each way, and an empty local answer with Redis down would otherwise
    // fail each load while leases and saves work, and the engine's store health would flap.
    if (copies.length === 0 && local.status === 'rejected') throw local.reason;
    return {
      copies,
      // A tier that failed to answer is left alone: what it holds is unknown.
      settle: (chosen, expiresAt, replaceable) =>
        localFirst(
          'put a staple back',
          local.status === 'fulfilled' ? local.value.settle(chosen, expiresAt, replaceable) : Promise.resolve(),
          shared.status === 'fulfilled' ? shared.value.settle(chosen, expiresAt, replaceable) : Promise.resolve(),
        ),
    };
  }

  /** Saved on both; a shared store that fails logs its own outage, and a later load puts the staple back. */
  async save(key: string, der: Buffer, expiresAt: number): Promise<void> {
    await localFirst('save', this.local.save(key, der, expiresAt), this.shared.save(key, der, expiresAt));
  }

  async delete(key: string): Promise<void> {
    await localFirst('delete', this.local.delete(key), this.shared.delete(key));
  }

  async acquire(key: string, ttlMs: number): Promise<Lease | null> {
    try {
      return await this.shared.acquire(key, ttlMs);
    } catch {
      // The shared store says why in its own log line (once); the host still fetches once.
      return this.local.acquire(key, ttlMs);
    }
  }

  async prune(now: number): Promise<number> {
    const counts = await both('prune', [this.local.prune(now), this.shared.prune(now)]);
    return counts[0] + counts[1];
  }

  watch(onChange: (key: string) => void): () => void {
    const stops = [this.local.watch(onChange), this.shared.watch(onChange)];
    return () => stops.forEach((stop) => stop());
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.local.close(), this.shared.close()]);
  }
}

/**
 * Run on both tiers; only the local tier's failure fails the call. The shared store says when it
 * becomes unreachable and when it is back (one line each), so the engine's store health, which
 * would log each failing save and each working load, stays quiet about it.
 */
async function localFirst(what: string, local: Promise<void>, shared: Promise<void>): Promise<void> {
  const [a] = await Promise.allSettled([local, shared]);
  if (a.status === 'rejected') throw a.reason instanceof Error ? a.reason : new StoreError(`could not ${what}: ${String(a.reason)}`);
}

/** Run on both tiers; if either failed, throw the first failure once both are done. */
async function both<T>(what: string, work: [Promise<T>, Promise<T>]): Promise<[T, T]> {
  const [a, b] = await Promise.allSettled(work);
  if (a.status === 'rejected') throw a.reason instanceof Error ? a.reason : new StoreError(`could not ${what}: ${String(a.reason)}`);
  if (b.status === 'rejected') throw b.reason instanceof Error ? b.reason : new StoreError(`could not ${what}: ${String(b.reason)}`);
  return [a.value, b.value];
}
