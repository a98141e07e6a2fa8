// Two tiers: the host's own directory and the fleet's shared store (Redis). Reads take the newer
// of the two, so that a host restarted while Redis is down still staples from its disk at once;
// writes go to both. The lease is the shared one, or the directory's while the shared store
// fails, so that the workers of one host still make one request between them. When the shared
// store holds nothing or an older staple than the directory (Redis restarted empty, flushed, or a
// replica promoted with stale data), a load puts this host's newer staple back.

import { nextUpdateOf, thisUpdateOf } from './staple-version.ts';
import { StoreError } from './store-files.ts';
import type { Lease, StapleStore } from './store.ts';

/** Two stores as one: a local one (read first, always written) over a shared one (e.g. Redis), so that stapling never depends on the shared one being up. */
export class TieredStore implements StapleStore {
  readonly description: string;

  constructor(
    readonly local: StapleStore,
    readonly shared: StapleStore,
  ) {
    this.description = `${shared.description}, over ${local.description}`;
  }

  async load(key: string): Promise<Buffer | null> {
    const [local, shared] = await Promise.allSettled([this.local.load(key), this.shared.load(key)]);
    const a = local.status === 'fulfilled' ? local.value : null;
    const b = shared.status === 'fulfilled' ? shared.value : null;
    if (a === null && b === null) {
      const failed = [local, shared].find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      return null;
    }
    if (b !== null && a !== null && b.equals(a)) return a;
    // The engine verifies whichever it gets; the newer one is the one worth verifying.
    const newer = a === null || (b !== null && thisUpdateOf(b) > thisUpdateOf(a)) ? b : a;
    // Only our own directory's staple goes back up (the shared store's save keeps whatever is
    // newer still, atomically); one from Redis is kept on disk for a restart while Redis is down
    // (the engine verifies it when it loads it, as anything it loads).
    if (newer === a && a !== null && shared.status === 'fulfilled') await this.shared.save(key, a, nextUpdateOf(a)).catch(() => undefined);
    if (newer === b && b !== null && thisUpdateOf(b) > 0 && local.status === 'fulfilled') await this.local.save(key, b, nextUpdateOf(b)).catch(() => undefined);
    return newer;
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
