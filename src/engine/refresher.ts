// Getting a certificate's response: from the store first (another process's fetch, or ours from
// before a restart), else from the fetcher under the store's lease, so that processes sharing a
// store make one request per refresh between them. A store that fails never stops fetching.
// What it finds goes to the lifecycle through `apply`; it decides nothing itself.

import { createHash } from 'node:crypto';
import type { FetchRequest, StapleFetcher } from '../fetch/staple-fetcher.ts';
import { ownedCopy } from '../ocsp/bytes.ts';
import { verifyResponse, verifyResponseAsync, type Acceptable, type Verdict, type VerifyInput, type VerifySettings } from '../ocsp/verify.ts';
import type { Lease, StapleStore, StoredCopies } from '../store/store.ts';
import type { Clock, TimerHandle } from './clock.ts';
import { isDue, supersedes, type LifecycleEvent, type Staple } from './lifecycle.ts';
import type { Logger } from './logger.ts';
import type { ManagedCertificate } from './managed.ts';
import type { RefreshSettings } from './policy.ts';
import type { FetchQueue } from './queue.ts';
import type { StoreHealth } from './store-health.ts';

/** Stored copies found unacceptable, remembered per certificate (digests): one per tier, and what came before. */
const MAX_REJECTED_REMEMBERED = 4;

/** A store without tiers: its one copy, and nothing to put back. */
const oneUnsettled = (der: Buffer | null): StoredCopies => ({ copies: der ? [der] : [], settle: () => Promise.resolve() });

export interface RefresherParts {
  readonly clock: Clock;
  readonly store: StapleStore;
  readonly storeHealth: StoreHealth;
  readonly fetcher: StapleFetcher;
  readonly queue: FetchQueue;
  readonly log: Logger;
  readonly refreshSettings: RefreshSettings;
  readonly verifySettings: Partial<VerifySettings>;
  readonly leaseTtlMs: number;
  readonly signal: AbortSignal;
  /** Run a lifecycle transition (the engine's driver). */
  readonly apply: (m: ManagedCertificate, event: LifecycleEvent) => Promise<void>;
  /** Arm the refresh timer for the certificate's next refresh. */
  readonly rearm: (m: ManagedCertificate) => void;
  readonly changed: () => void;
  readonly isClosed: () => boolean;
}

/** What reconfigure() may replace. */
export type RefresherSettings = Pick<RefresherParts, 'store' | 'storeHealth' | 'fetcher' | 'refreshSettings' | 'verifySettings' | 'leaseTtlMs'>;

export class Refresher {
  /** Each responder URL's origin (the queue's lanes), worked out once: thousands of certificates share a few. */
  private readonly origins = new Map<string, string>();

  constructor(private p: RefresherParts) {}

  /** New settings, store or fetcher: each refresh reads them when it runs. */
  update(settings: RefresherSettings): void {
    this.p = { ...this.p, ...settings };
  }

  private originOf(url: string): string {
    let origin = this.origins.get(url);
    if (origin === undefined) {
      try {
        origin = new URL(url).origin;
      } catch {
        origin = url;
      }
      this.origins.set(url, origin);
    }
    return origin;
  }

  /** Refresh one certificate (single flight). `force`: fetch even if the store holds a response not yet due. */
  refresh(m: ManagedCertificate, force = false): Promise<void> {
    if (m.inflight) return m.inflight;
    if (this.p.isClosed() || !m.fetchable) return Promise.resolve();
    m.refreshTimer?.cancel();
    m.refreshTimer = null;
    m.inflight = this.p.queue
      .run(this.originOf(m.urls[0]!), m.mustStaple, () => this.refreshUnderLease(m, force))
      .catch((err: unknown) => this.p.apply(m, { type: 'fetch-failed', reason: 'internal', message: err instanceof Error ? err.message : String(err) }))
      .finally(() => {
        m.inflight = null;
        // Whatever the refresh did (it may have found nothing to do), the next one stays planned.
        if (!m.refreshTimer) this.p.rearm(m);
        this.p.changed();
      });
    return m.inflight;
  }

  /** A new store (reconfigure): a newer verified staple in it is taken, then the one held is saved to it. */
  async adoptNewStore(m: ManagedCertificate): Promise<void> {
    const { store, storeHealth } = this.p;
    await this.adoptFromStore(m);
    const s = m.life.staple;
    if (s && !this.p.isClosed()) await storeHealth.attempt('save', () => store.save(m.id, s.der, s.verdict.validUntil), undefined);
    this.p.changed();
  }

  /**
   * Verify each stored copy (one per tier), install the newest acceptable one if it is newer than
   * ours, and put what we hold back on the tiers that held nothing, an older copy or a copy just
   * found unacceptable. Nothing unverified is installed or written. Returns true when the
   * certificate's staple is not yet due for refresh: then there is nothing to fetch.
   */
  async adoptFromStore(m: ManagedCertificate): Promise<boolean> {
    const { store, storeHealth, clock } = this.p;
    const found = await storeHealth.attempt('load', () => (store.loadCopies ? store.loadCopies(m.id) : store.load(m.id).then(oneUnsettled)), null);
    if (this.p.isClosed()) return false;
    if (found) await this.adoptBest(m, found);
    return !isDue(m.life, clock.now(), this.p.refreshSettings);
  }

  private async adoptBest(m: ManagedCertificate, found: StoredCopies): Promise<void> {
    const { store, storeHealth, clock } = this.p;
    const replaceable: Buffer[] = [];
    const acceptable: Staple[] = [];
    let best: Staple | null = null;
    for (const der of found.copies) {
      if (m.life.staple?.der.equals(der)) continue;
      const digest = createHash('sha256').update(der).digest('hex');
      // Refused before and back again (someone keeps writing it): not checked, logged or fought over again.
      if (m.rejectedStored.includes(digest)) continue;
      const verdict = await this.verify(m, der);
      if (this.p.isClosed()) return;
      if (!verdict.ok) {
        m.rejectedStored = [digest, ...m.rejectedStored].slice(0, MAX_REJECTED_REMEMBERED);
        replaceable.push(der);
        this.p.log.warn({ ...m.who, store: store.description, reason: verdict.reason }, `stored staple is not acceptable, ignoring it: ${verdict.message}`);
        continue;
      }
      // When it was fetched is unknown: producedAt is the best bound (and never blocks an overdue refresh).
      const staple: Staple = { der: ownedCopy(der), verdict, fetchedAt: Math.min(verdict.producedAt, clock.now()), maxAgeSeconds: null, source: 'store' };
      acceptable.push(staple);
      if (!best || supersedes(staple, best)) best = staple;
    }
    if (best) await this.p.apply(m, { type: 'loaded', staple: best });
    const held = m.life.staple;
    if (!held || clock.now() >= held.verdict.validUntil || this.p.isClosed()) return;
    for (const s of acceptable) if (supersedes(held, s)) replaceable.push(s.der);
    const goes = (copy: Buffer): boolean => replaceable.some((r) => r.equals(copy));
    await storeHealth.attempt('put a staple back', () => found.settle(held.der, held.verdict.validUntil, goes), undefined);
  }

  private async refreshUnderLease(m: ManagedCertificate, force: boolean): Promise<void> {
    if (this.p.isClosed()) return;
    if ((await this.adoptFromStore(m)) && !force) return;
    const { store, storeHealth } = this.p;
    // A store that fails must not stop fetching: then this process fetches without a lease.
    const lease = await storeHealth.attempt<Lease | null | 'none'>('acquire a lease', () => store.acquire(m.id, this.p.leaseTtlMs), 'none');
    if (lease === null) return this.p.apply(m, { type: 'lease-busy' });
    try {
      // The previous holder may have saved just before releasing it.
      if (lease !== 'none' && (await this.adoptFromStore(m)) && !force) return;
      await this.fetchAndInstall(m, lease === 'none' ? null : lease);
    } finally {
      if (lease !== 'none') await storeHealth.attempt('release a lease', () => lease.release(), undefined);
    }
  }

  private async fetchAndInstall(m: ManagedCertificate, lease: Lease | null): Promise<void> {
    const { clock } = this.p;
    await this.p.apply(m, { type: 'fetch-started' });
    // The fetcher judges its answers by our verification (one per responder asked): the copies we accepted are the ones we keep.
    const accepted: { der: Buffer; verdict: Acceptable }[] = [];
    const verify = async (der: Buffer, nonce?: Uint8Array): Promise<Verdict> => {
      const copy = ownedCopy(der);
      const verdict = await this.verify(m, copy, nonce);
      if (verdict.ok) accepted.push({ der: copy, verdict });
      return verdict;
    };
    const request: FetchRequest = { certificate: m.cert, issuer: m.issuer!, urls: m.urls, now: () => clock.now(), signal: this.p.signal, verify };
    const stopRenewing = this.keepLease(m, lease);
    const outcome = await this.p.fetcher.fetch(request).finally(stopRenewing);
    if (this.p.isClosed()) return;
    if (!outcome.ok) return this.p.apply(m, { type: 'fetch-failed', reason: outcome.reason, message: outcome.message });
    // The fetcher is not trusted: bytes other than those we accepted are verified now.
    const mine = accepted.find((a) => a.der.equals(outcome.der));
    const der = mine?.der ?? ownedCopy(outcome.der);
    const verdict = mine?.verdict ?? (await this.verify(m, der));
    if (this.p.isClosed()) return;
    if (!verdict.ok) return this.p.apply(m, { type: 'fetch-failed', reason: verdict.reason, message: verdict.message });
    const staple = { der, verdict, fetchedAt: clock.now(), maxAgeSeconds: outcome.maxAgeSeconds, source: 'fetch' as const };
    // Saved before the lease is released, so that the next holder finds it.
    await this.p.apply(m, { type: 'fetched', staple });
  }

  /** Renew the lease while a slow fetch runs, so that no other process starts a second one. */
  private keepLease(m: ManagedCertificate, lease: Lease | null): () => void {
    if (!lease) return () => undefined;
    const renew = lease.renew.bind(lease);
    const { clock, storeHealth, log } = this.p;
    let timer: TimerHandle | null = null;
    const arm = (): void => {
      timer = clock.at(clock.now() + this.p.leaseTtlMs / 3, () => {
        void renew().then(
          (held) => (held ? arm() : log.debug(m.who, 'the refresh lease was lost while fetching')),
          (err: unknown) => storeHealth.failed('renew a lease', err),
        );
      });
    };
    arm();
    return () => timer?.cancel();
  }

  /**
   * The held staple verified again under the current settings (they changed), as the event that
   * keeps or drops it: synchronously, so that reconfigure() judges every staple before it returns.
   */
  reverify(m: ManagedCertificate): LifecycleEvent | null {
    const s = m.life.staple;
    if (!s || !m.issuer) return null;
    const v = this.judge(m, s.der);
    return { type: 'reverified', verdict: v.ok ? v : null, message: v.ok ? '' : v.message };
  }

  /** Bytes verified for a certificate with a known issuer, now, synchronously (a held staple again, or a staple file found on disk). */
  judge(m: ManagedCertificate, der: Buffer): Verdict {
    try {
      return verifyResponse(der, this.verifyInput(m));
    } catch (err) {
      return refused(m, err);
    }
  }

  /**
   * Every response, fetched or stored, is verified here, once, its signatures on libuv's thread
   * pool. The core returns a verdict for any bytes; should it ever throw, the bytes are refused.
   */
  private async verify(m: ManagedCertificate, der: Buffer, nonce?: Uint8Array): Promise<Verdict> {
    try {
      return await verifyResponseAsync(der, this.verifyInput(m, nonce));
    } catch (err) {
      return refused(m, err);
    }
  }

  private verifyInput(m: ManagedCertificate, nonce?: Uint8Array): VerifyInput {
    const settings = nonce ? { ...this.p.verifySettings, nonce } : this.p.verifySettings;
    return { certificate: m.cert, issuer: m.issuer!, now: this.p.clock.now(), settings };
  }
}

function refused(m: ManagedCertificate, err: unknown): Verdict {
  const message = `could not be read: ${err instanceof Error ? err.message : String(err)}`;
  return { ok: false, reason: 'malformed', message, serial: m.cert.serialHex, certStatus: null, thisUpdate: null, nextUpdate: null, producedAt: null };
}
