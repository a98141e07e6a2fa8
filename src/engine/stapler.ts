// The stapling engine: keeps an acceptable OCSP response in memory for every registered
// certificate, refreshes it in the background well before it expires, keeps the last good one
// through responder outages, drops it the moment it expires, and answers lookups without ever
// waiting on the network.

import { EventEmitter } from 'node:events';
import { createHash } from 'node:crypto';
import { ownedCopy } from '../ocsp/bytes.ts';
import { Certificate } from '../ocsp/certificate.ts';
import { InputError } from '../ocsp/errors.ts';
import { findIssuer, readCertificates } from '../ocsp/pem.ts';
import { verifyResponse, type Acceptable, type VerifySettings } from '../ocsp/verify.ts';
import { DirectoryStore } from '../store/directory-store.ts';
import { defaultStoreDir } from '../store/default-dir.ts';
import { MemoryStore } from '../store/memory-store.ts';
import type { StapleStore } from '../store/store.ts';
import { systemClock, type Clock } from './clock.ts';
import { HttpFetcher, type StapleFetcher } from './fetcher.ts';
import { defaultLogger, type Logger } from './logger.ts';
import { certificateId, ManagedCertificate, type Installed } from './managed.ts';
import { DEFAULT_REFRESH_SETTINGS, nextRefresh, nextRetry, type RefreshSettings } from './policy.ts';
import { validateOptions } from './options.ts';
import { FetchQueue } from './queue.ts';
import type { CertificateStatus, ReadyReport, StaplerEvents, StaplerOptions } from './types.ts';

/** certificateHold (RFC 5280): the only revocation reason that may be lifted. */
const CERTIFICATE_HOLD = 6;
/** Unknown certificates registered from handshakes: remembered so a bad one is tried once. */
const MAX_HANDSHAKE_REGISTRATIONS = 1024;

export interface AddOptions {
  /** The issuer, when the chain does not hold it (PEM or DER). */
  readonly issuer?: string | Uint8Array;
  /** Responder URLs for this certificate (overrides AIA and the global override). */
  readonly responderUrls?: readonly string[];
  /** A label for errors and logs (e.g. the file it came from). */
  readonly label?: string;
}

export class Stapler extends EventEmitter<StaplerEvents> {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly store: StapleStore;
  private readonly fetcher: StapleFetcher;
  private readonly queue: FetchQueue;
  private readonly refreshSettings: RefreshSettings;
  private readonly verifySettings: Partial<VerifySettings>;
  private readonly random: () => number;
  private readonly leaseTtlMs: number;
  private readonly byId = new Map<string, ManagedCertificate>();
  private readonly byDer = new Map<string, ManagedCertificate>();
  /** ready() calls in progress, told of each new registration. */
  private readonly readyWatchers = new Set<(m: ManagedCertificate) => void>();
  /** CA certificates seen in chains: candidates for the issuer of certificates met in handshakes. */
  private readonly knownIssuers = new Map<string, Certificate>();
  private readonly handshakeRegistrations = new Set<string>();
  private readonly abort = new AbortController();
  private readonly unwatch: () => void;
  private readonly changeWaiters = new Set<() => void>();
  private closed = false;

  constructor(private readonly options: StaplerOptions = {}) {
    super();
    validateOptions(options);
    this.clock = options.clock ?? systemClock;
    this.log = options.logger ?? defaultLogger();
    this.random = options.random ?? Math.random;
    this.refreshSettings = { ...DEFAULT_REFRESH_SETTINGS, ...options.refresh };
    this.leaseTtlMs = options.leaseTtlMs ?? 30_000;
    this.verifySettings = {
      ...(options.skewMs !== undefined ? { skewMs: options.skewMs } : {}),
      ...(options.maxAgeWithoutNextUpdateMs !== undefined ? { maxAgeWithoutNextUpdateMs: options.maxAgeWithoutNextUpdateMs } : {}),
      ...(options.maxResponseBytes !== undefined ? { maxResponseBytes: options.maxResponseBytes } : {}),
      ...(options.allowSha1Signatures !== undefined ? { allowSha1Signatures: options.allowSha1Signatures } : {}),
    };
    this.store = resolveStore(options.store, this.log);
    this.fetcher =
      options.fetcher ??
      new HttpFetcher({
        timeoutMs: options.timeoutMs ?? 5_000,
        deadlineMs: options.deadlineMs ?? 15_000,
        proxy: options.proxy,
        maxResponseBytes: options.maxResponseBytes ?? 64 * 1024,
        hash: options.hash ?? 'sha1',
        verify: this.verifySettings,
      });
    this.queue = new FetchQueue(options.concurrency ?? 8);
    this.unwatch = this.store.watch((id) => this.onStoreChange(id));
  }

  /** Where staples are kept (for logs and status). */
  get storeDescription(): string {
    return this.store.description;
  }

  // ---------------------------------------------------------------- registration

  /**
   * Register a certificate (PEM with its chain, or DER). Its staple is loaded from the store and
   * verified, and its first fetch starts at once unless the stored staple is still fresh.
   */
  async add(certificate: string | Uint8Array, opts: AddOptions = {}): Promise<CertificateStatus> {
    this.assertOpen();
    const label = opts.label ?? 'certificate';
    const chain = readCertificates(typeof certificate === 'string' ? Buffer.from(certificate) : certificate, label);
    const leaf = chain[0]!;
    const extra = opts.issuer === undefined ? [] : readCertificates(typeof opts.issuer === 'string' ? Buffer.from(opts.issuer) : opts.issuer, `${label} (issuer)`);
    // One shared instance per CA certificate: its key and hashes are computed once, not per leaf.
    const candidates = [...extra, ...chain.slice(1)].map((c) => this.canonicalIssuer(c));
    const issuer = findIssuer(leaf, [...candidates, ...this.knownIssuers.values()]);
    if (opts.issuer !== undefined && !issuer) throw new InputError(`${label} (issuer)`, `is not the issuer of "${leaf.subject}"`);
    return this.register(leaf, issuer ?? null, opts.responderUrls);
  }

  private async register(leaf: Certificate, issuer: Certificate | null, urlOverride?: readonly string[]): Promise<CertificateStatus> {
    const lookupKey = Buffer.from(leaf.der).toString('latin1');
    const existing = this.byDer.get(lookupKey);
    if (existing) return existing.status();
    const urls = urlOverride ?? this.responderUrlsFor(leaf, issuer);
    const m = new ManagedCertificate(leaf, issuer, urls);
    this.byId.set(m.id, m);
    this.byDer.set(m.lookupKey, m);
    for (const watcher of this.readyWatchers) watcher(m);
    const who = { subject: leaf.subject, serial: leaf.serialHex, id: m.id };
    if (urls.length === 0) {
      this.log.info(who, 'certificate has no OCSP responder URL: nothing to staple');
      if (m.mustStaple) this.log.error(who, 'certificate is Must-Staple but names no OCSP responder: clients that enforce Must-Staple will refuse it');
      this.notifyChange();
      return m.status();
    }
    if (!issuer) {
      this.log.error(who, `the issuer "${leaf.issuer}" of this certificate is not in its chain or configured: cannot build an OCSP request`);
      this.notifyChange();
      return m.status();
    }
    // A stored staple is served at once; past its refresh point it is also refreshed at once.
    if (!(await this.adoptFromStore(m))) void this.refresh(m);
    this.notifyChange();
    return m.status();
  }

  /** The shared instance of a CA certificate seen before (or this one, remembered). */
  private canonicalIssuer(c: Certificate): Certificate {
    const key = Buffer.from(c.der).toString('latin1');
    const known = this.knownIssuers.get(key);
    if (known) return known;
    if (c.isCA) this.knownIssuers.set(key, c);
    return c;
  }

  private responderUrlsFor(leaf: Certificate, issuer: Certificate | null): readonly string[] {
    if (issuer && this.options.responderUrlsByIssuer) {
      const fingerprint = createHash('sha256').update(issuer.der).digest('hex');
      const byIssuer = this.options.responderUrlsByIssuer[issuer.subject] ?? this.options.responderUrlsByIssuer[fingerprint];
      if (byIssuer?.length) return byIssuer;
    }
    if (this.options.responderUrls?.length && leaf.ocspUrls.length > 0) return this.options.responderUrls;
    return leaf.ocspUrls;
  }

  /** Forget a certificate (e.g. replaced by its renewal). Its stored staple stays until it expires. */
  remove(certificate: string | Uint8Array): boolean {
    const leaf = readCertificates(typeof certificate === 'string' ? Buffer.from(certificate) : certificate, 'certificate')[0]!;
    return this.removeById(certificateId(leaf.der));
  }

  removeById(id: string): boolean {
    const m = this.byId.get(id);
    if (!m) return false;
    m.cancelTimers();
    this.byDer.delete(m.lookupKey);
    this.byId.delete(m.id);
    return true;
  }

  // ---------------------------------------------------------------- the handshake path

  /**
   * The staple for a certificate (DER), or null. Synchronous and in memory: this is called for
   * every full handshake. A certificate never added is registered in the background, with its
   * issuer from OpenSSL's argument or from the chains already seen.
   */
  stapleFor(certDer: Buffer, issuerDer?: Buffer | null): Buffer | null {
    const m = this.byDer.get(certDer.toString('latin1'));
    if (!m) {
      this.registerFromHandshake(certDer, issuerDer ?? null);
      return null;
    }
    const s = m.staple;
    // The expiry timer removes it; this check also covers a timer that fired late.
    if (s && this.clock.now() < s.verdict.validUntil) {
      m.counters.stapled++;
      return s.der;
    }
    m.counters.unstapled++;
    return null;
  }

  /** The current staple of a certificate, by id, or null (for faces that write staples out; counts no handshake). */
  stapleById(id: string): Buffer | null {
    const s = this.byId.get(id)?.staple;
    return s && this.clock.now() < s.verdict.validUntil ? s.der : null;
  }

  /** One certificate's status, by id. */
  statusById(id: string): CertificateStatus | null {
    return this.byId.get(id)?.status() ?? null;
  }

  private registerFromHandshake(certDer: Buffer, issuerDer: Buffer | null): void {
    if (this.closed) return;
    const key = createHash('sha256').update(certDer).digest('hex');
    if (this.handshakeRegistrations.has(key)) return;
    if (this.handshakeRegistrations.size >= MAX_HANDSHAKE_REGISTRATIONS) this.handshakeRegistrations.clear();
    this.handshakeRegistrations.add(key);
    void (async () => {
      try {
        const leaf = new Certificate(ownedCopy(certDer), 'certificate from a handshake');
        const candidates = [...this.knownIssuers.values()];
        if (issuerDer) candidates.unshift(this.canonicalIssuer(new Certificate(ownedCopy(issuerDer), 'issuer from a handshake')));
        const issuer = findIssuer(leaf, candidates) ?? null;
        this.log.info({ subject: leaf.subject, serial: leaf.serialHex }, 'certificate seen in a handshake was not added: registering it now (this handshake gets no staple)');
        await this.register(leaf, issuer);
      } catch (err) {
        this.log.warn({ err: errorMessage(err) }, 'could not register a certificate seen in a handshake');
      }
    })();
  }

  // ---------------------------------------------------------------- refreshing

  /** Refresh now (single flight: concurrent calls share one fetch). */
  refreshNow(certificate: string | Uint8Array): Promise<void> {
    const leaf = readCertificates(typeof certificate === 'string' ? Buffer.from(certificate) : certificate, 'certificate')[0]!;
    const m = this.byDer.get(Buffer.from(leaf.der).toString('latin1'));
    if (!m) throw new InputError('certificate', `"${leaf.subject}" was not added`);
    return this.refresh(m, true);
  }

  /** Refresh now, by the certificate's id (its status `id`). */
  refreshById(id: string): Promise<void> {
    const m = this.byId.get(id);
    if (!m) throw new InputError('certificate', `no certificate with id ${id} was added`);
    return this.refresh(m, true);
  }

  /** `force`: fetch even if the store holds a response that is not yet due (an explicit refresh). */
  private refresh(m: ManagedCertificate, force = false): Promise<void> {
    if (m.inflight) return m.inflight;
    if (this.closed || !m.fetchable) return Promise.resolve();
    m.refreshTimer?.cancel();
    m.refreshTimer = null;
    m.inflight = this.queue
      .run(m.mustStaple, () => this.refreshUnderLease(m, force))
      .catch((err: unknown) => this.recordFailure(m, 'internal', errorMessage(err)))
      .finally(() => {
        m.inflight = null;
        this.notifyChange();
      });
    return m.inflight;
  }

  private async refreshUnderLease(m: ManagedCertificate, force: boolean): Promise<void> {
    if (this.closed) return;
    // Another process sharing the store may have refreshed already.
    if ((await this.adoptFromStore(m)) && !force) return;
    const lease = await this.store.acquire(m.id, this.leaseTtlMs);
    if (!lease) {
      // Another process is fetching: its result arrives through the store's watch. Look again
      // after the lease could have run out, in case that process died.
      this.log.debug({ subject: m.cert.subject }, 'another process holds the refresh lease');
      this.schedule(m, { at: this.clock.now() + Math.min(this.leaseTtlMs, this.refreshSettings.backoffInitialMs), rule: 'another process is fetching' });
      return;
    }
    try {
      if ((await this.adoptFromStore(m)) && !force) return;
      await this.fetchAndInstall(m);
    } finally {
      await lease.release().catch((err: unknown) => this.log.warn({ err: errorMessage(err) }, 'could not release a refresh lease'));
    }
  }

  private async fetchAndInstall(m: ManagedCertificate): Promise<void> {
    m.counters.fetches++;
    m.attempted = true;
    const outcome = await this.fetcher.fetch({ certificate: m.cert, issuer: m.issuer!, urls: m.urls, now: () => this.clock.now(), signal: this.abort.signal });
    if (this.closed) return;
    if (!outcome.ok) return this.recordFailure(m, outcome.reason, outcome.message);
    const verdict = this.verify(m, outcome.der);
    if (!verdict.ok) return this.recordFailure(m, verdict.reason, verdict.message);
    const installed = this.install(m, { der: outcome.der, verdict, fetchedAt: this.clock.now(), maxAgeSeconds: outcome.maxAgeSeconds, source: 'fetch' });
    if (installed) {
      await this.store.save(m.id, outcome.der, verdict.validUntil).catch((err: unknown) => {
        this.log.warn({ subject: m.cert.subject, store: this.store.description, err: errorMessage(err) }, 'could not save the staple to the store');
      });
    }
  }

  private verify(m: ManagedCertificate, der: Buffer): ReturnType<typeof verifyResponse> {
    return verifyResponse(der, { certificate: m.cert, issuer: m.issuer!, now: this.clock.now(), settings: this.verifySettings });
  }

  /**
   * Install an acceptable response unless it would make things worse: an older response never
   * replaces a newer one, and a good one never lifts a revocation (but for certificateHold).
   * Returns whether it was installed. Either way the fetch succeeded, and the next refresh is planned.
   */
  private install(m: ManagedCertificate, next: Installed): boolean {
    const now = this.clock.now();
    const current = m.staple;
    m.failures = 0;
    m.lastError = null;
    m.attempted = true;
    let replace = true;
    if (current) {
      const liftsRevocation = current.verdict.certStatus === 'revoked' && next.verdict.certStatus === 'good' && current.verdict.revocationReason !== CERTIFICATE_HOLD;
      if (liftsRevocation) {
        this.log.warn({ subject: m.cert.subject }, 'responder now says good for a certificate it said was revoked: keeping the revocation');
        replace = false;
      } else if (next.verdict.thisUpdate < current.verdict.thisUpdate) {
        replace = false;
      }
    }
    if (replace) {
      m.staple = { ...next, der: ownedCopy(next.der) };
      m.expiryTimer?.cancel();
      m.expiryTimer = this.clock.at(next.verdict.validUntil, () => this.expire(m));
    }
    const s = m.staple!;
    this.schedule(m, nextRefresh({ ...windowOf(s.verdict), fetchedAt: next.fetchedAt, maxAgeSeconds: next.maxAgeSeconds }, now, this.refreshSettings, this.random()));
    if (replace) {
      const status = m.status();
      const wasRevoked = current?.verdict.certStatus === 'revoked';
      this.log.info(
        { subject: m.cert.subject, serial: m.cert.serialHex, certStatus: s.verdict.certStatus, source: s.source, nextUpdate: iso(s.verdict.nextUpdate), nextRefresh: iso(m.nextRefresh?.at ?? null) },
        'stapling a new OCSP response',
      );
      this.emitSafely('updated', status);
      if (s.verdict.certStatus === 'revoked' && !wasRevoked) {
        this.log.error({ subject: m.cert.subject, serial: m.cert.serialHex, revocationTime: iso(s.verdict.revocationTime) }, 'certificate is REVOKED: replace it');
        this.emitSafely('revoked', status);
      }
    }
    return replace;
  }

  private recordFailure(m: ManagedCertificate, reason: string, message: string): void {
    if (this.closed) return;
    const now = this.clock.now();
    m.failures++;
    m.counters.fetchFailures++;
    m.attempted = true;
    m.lastError = { reason, message, at: now };
    const validUntil = m.staple?.verdict.validUntil ?? null;
    this.schedule(m, nextRetry(m.failures, validUntil, now, this.refreshSettings, this.random()));
    const status = m.status();
    this.log.warn(
      { subject: m.cert.subject, serial: m.cert.serialHex, reason, failures: m.failures, keeping: m.staple ? 'last good response' : 'no staple', nextTry: iso(m.nextRefresh?.at ?? null) },
      `OCSP refresh failed: ${message}`,
    );
    this.emitSafely('refreshFailed', status);
    if (m.mustStaple && (!m.staple || (m.nextRefresh && m.nextRefresh.at >= m.staple.verdict.validUntil))) this.mustStapleAtRisk(m);
  }

  private expire(m: ManagedCertificate): void {
    const s = m.staple;
    if (!s || this.clock.now() < s.verdict.validUntil) return;
    m.staple = null;
    m.expiryTimer = null;
    const status = m.status();
    this.log.warn({ subject: m.cert.subject, serial: m.cert.serialHex, validUntil: iso(s.verdict.validUntil) }, 'staple expired and was removed: handshakes get no staple until a fetch succeeds');
    this.emitSafely('expired', status);
    if (m.mustStaple) this.mustStapleAtRisk(m);
    // Fetching goes on; make sure a try is due no later than now.
    if (!m.inflight && (!m.nextRefresh || m.nextRefresh.at > this.clock.now())) void this.refresh(m);
    this.notifyChange();
  }

  private mustStapleAtRisk(m: ManagedCertificate): void {
    const status = m.status();
    this.log.error(
      { subject: m.cert.subject, serial: m.cert.serialHex, validUntil: iso(status.validUntil), nextTry: iso(status.nextRefreshAt) },
      m.staple ? 'Must-Staple certificate: its staple will expire before the next retry' : 'Must-Staple certificate has no staple: clients that enforce Must-Staple will refuse it',
    );
    this.emitSafely('mustStapleAtRisk', status);
  }

  private schedule(m: ManagedCertificate, decision: { at: number; rule: string }): void {
    m.refreshTimer?.cancel();
    m.nextRefresh = decision;
    if (this.closed) return;
    m.refreshTimer = this.clock.at(decision.at, () => {
      m.refreshTimer = null;
      void this.refresh(m);
    });
  }

  // ---------------------------------------------------------------- the store

  /**
   * Load this certificate's staple from the store; install it if it verifies and is newer than
   * ours. Returns true when that brought in a response (another process's refresh, or ours from
   * before a restart) that is not yet due for refresh: then there is nothing to fetch.
   */
  private async adoptFromStore(m: ManagedCertificate): Promise<boolean> {
    let der: Buffer | null;
    try {
      der = await this.store.load(m.id);
    } catch (err) {
      this.log.warn({ subject: m.cert.subject, store: this.store.description, err: errorMessage(err) }, 'could not read the stored staple: ignoring it');
      return false;
    }
    if (!der || this.closed) return false;
    if (m.staple && Buffer.compare(der, m.staple.der) === 0) return false;
    // The same bad file, seen again on each retry during an outage: already logged.
    if (m.rejectedStored && Buffer.compare(der, m.rejectedStored) === 0) return false;
    const verdict = this.verify(m, der);
    if (!verdict.ok) {
      m.rejectedStored = ownedCopy(der);
      this.log.warn({ subject: m.cert.subject, store: this.store.description, reason: verdict.reason }, `stored staple is not acceptable, ignoring it: ${verdict.message}`);
      return false;
    }
    if (m.staple && verdict.thisUpdate <= m.staple.verdict.thisUpdate) return false;
    // When it was fetched is unknown: producedAt is the best bound (and never blocks an overdue refresh).
    this.install(m, { der, verdict, fetchedAt: Math.min(verdict.producedAt, this.clock.now()), maxAgeSeconds: null, source: 'store' });
    return this.notDue(m);
  }

  private notDue(m: ManagedCertificate): boolean {
    return m.staple !== null && m.nextRefresh !== null && m.nextRefresh.at > this.clock.now() + this.refreshSettings.floorMs;
  }

  private onStoreChange(id: string): void {
    const m = this.byId.get(id);
    if (!m || this.closed || !m.fetchable) return;
    const adopt = (): void => void this.adoptFromStore(m).then(() => this.notifyChange());
    // Another process saved while we were busy with this certificate: look once we are done.
    if (m.inflight) void m.inflight.then(adopt);
    else adopt();
  }

  // ---------------------------------------------------------------- waiting and status

  /**
   * Resolve once every certificate has an acceptable response or definitely cannot have one
   * (no responder). Rejects if a Must-Staple certificate cannot be stapled within `timeout`;
   * other certificates still unstapled then are listed in the report.
   */
  async ready(opts: { timeout?: number } = {}): Promise<ReadyReport> {
    const timeout = opts.timeout ?? 10_000;
    const deadline = this.clock.now() + timeout;
    // Each certificate is looked at once when it appears, then only while it is still waiting:
    // with 10,000 certificates, a wake-up per completed fetch must not rescan them all.
    const waiting = new Set<ManagedCertificate>();
    const hopeless: ManagedCertificate[] = [];
    const consider = (m: ManagedCertificate): void => {
      if (m.mustStaple && !m.fetchable) hopeless.push(m);
      if (m.fetchable && !m.staple) waiting.add(m);
    };
    for (const m of this.byId.values()) consider(m);
    this.readyWatchers.add(consider);
    try {
      for (;;) {
        if (hopeless.length > 0) throw mustStapleError(hopeless, 'has no OCSP responder or no known issuer');
        for (const m of waiting) if (m.staple || !this.byId.has(m.id)) waiting.delete(m);
        const timedOut = this.clock.now() >= deadline;
        if (waiting.size === 0 || timedOut) {
          const must = [...waiting].filter((m) => m.mustStaple);
          if (must.length > 0) throw mustStapleError(must, `could not be stapled within ${timeout} ms`);
          const all = [...this.byId.values()];
          return {
            stapled: all.filter((m) => m.staple).map((m) => m.status()),
            noResponder: all.filter((m) => !m.fetchable).map((m) => m.status()),
            unstapled: [...waiting].map((m) => m.status()),
          };
        }
        await this.nextChange(deadline);
      }
    } finally {
      this.readyWatchers.delete(consider);
    }
  }

  private nextChange(deadline: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.clock.at(deadline, done);
      function done(): void {
        timer.cancel();
        resolve();
      }
      const waiter = (): void => {
        this.changeWaiters.delete(waiter);
        done();
      };
      this.changeWaiters.add(waiter);
    });
  }

  private notifyChange(): void {
    for (const w of [...this.changeWaiters]) w();
  }

  status(): CertificateStatus[] {
    return [...this.byId.values()].map((m) => m.status());
  }

  /** Resolves when no fetch is running or queued (for tests and orderly shutdown). */
  async idle(): Promise<void> {
    for (;;) {
      const inflight = [...this.byId.values()].map((m) => m.inflight).filter((p): p is Promise<void> => p !== null);
      if (inflight.length === 0) return;
      await Promise.allSettled(inflight);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    this.unwatch();
    for (const m of this.byId.values()) m.cancelTimers();
    await this.idle();
    this.notifyChange();
    await this.fetcher.close();
    await this.store.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('this Stapler is closed');
  }

  /** Every event carries the certificate's status; a listener that throws cannot hurt the engine. */
  private emitSafely(event: keyof StaplerEvents, status: CertificateStatus): void {
    try {
      this.emit(event, status);
    } catch (err) {
      this.log.error({ event, err: errorMessage(err) }, 'a Stapler event listener threw; ignoring it');
    }
  }
}

function windowOf(v: Acceptable): { thisUpdate: number; validUntil: number; signerNotAfter: number } {
  return { thisUpdate: v.thisUpdate, validUntil: v.validUntil, signerNotAfter: v.signerNotAfter };
}

function resolveStore(option: StaplerOptions['store'], log: Logger): StapleStore {
  if (option === 'memory') return new MemoryStore();
  if (option && 'directory' in option) return new DirectoryStore(option.directory);
  if (option) return option;
  const dir = defaultStoreDir();
  if (dir) return new DirectoryStore(dir);
  log.warn({}, 'no writable directory for staples (set STAPLER_STORE_DIR): keeping them in memory only');
  return new MemoryStore();
}

function mustStapleError(ms: readonly ManagedCertificate[], why: string): Error {
  const list = ms.map((m) => `"${m.cert.subject}" (serial ${m.cert.serialHex})${m.lastError ? `: last error ${m.lastError.reason}: ${m.lastError.message}` : ''}`);
  return new Error(`Must-Staple certificate ${why}: ${list.join('; ')}`);
}

function iso(t: number | null): string | null {
  return t === null ? null : new Date(t).toISOString();
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
