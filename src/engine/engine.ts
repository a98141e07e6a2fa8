// The stapling engine: keeps an acceptable OCSP response in memory for every registered
// certificate and answers lookups without ever waiting on the network. It is the driver of the
// pure lifecycle in lifecycle.ts: it runs the timers, fetches, store calls, logs and events that
// each transition asks for. The clock, the fetcher, the store and the logger are injected; the
// faces (src/node, src/daemon) choose them.

import { EventEmitter } from 'node:events';
import type { StapleFetcher } from '../fetch/staple-fetcher.ts';
import type { Certificate } from '../ocsp/certificate.ts';
import { InputError } from '../ocsp/errors.ts';
import type { CertId } from '../ocsp/request.ts';
import { readCertificates } from '../ocsp/pem.ts';
import { systemClock, type Clock } from './clock.ts';
import { ChangeSignal } from './change-signal.ts';
import { ClosedError } from './errors.ts';
import { step, type Effect, type LifecycleEvent } from './lifecycle.ts';
import type { Logger } from './logger.ts';
import { certificateId, type ManagedCertificate } from './managed.ts';
import { validateOptions, verifySettingsOf } from './options.ts';
import { DEFAULT_REFRESH_SETTINGS, type RefreshSettings } from './policy.ts';
import { FetchQueue, queueLimitsOf } from './queue.ts';
import { CertificateRegistry } from './registry.ts';
import { waitUntilReady } from './ready.ts';
import { Refresher } from './refresher.ts';
import { StoreChanges } from './store-changes.ts';
import { Retirement, StoreBinding } from './store-binding.ts';
import type { AddOptions, EngineOptions, Reconfiguration } from './engine-options.ts';
import type { CertIdLookup, CertificateStatus, ReadyReport, StaplerEvents } from './types.ts';

export type { AddOptions, EngineDependencies, EngineOptions, Reconfiguration } from './engine-options.ts';

/** The stapling engine: keeps an acceptable OCSP response for each registered certificate, with the store, fetcher, logger and clock it is given. */
export class StaplingEngine extends EventEmitter<StaplerEvents> {
  private readonly clock: Clock;
  protected readonly log: Logger;
  private fetcher: StapleFetcher;
  private binding: StoreBinding;
  private refreshSettings: RefreshSettings;
  private readonly random: () => number;
  private readonly queue: FetchQueue;
  private readonly refresher: Refresher;
  private readonly registry: CertificateRegistry;
  private readonly changes: ChangeSignal;
  /** Loads after the store says a staple changed: coalesced per certificate, bounded in all. */
  private readonly storeChanges: StoreChanges<ManagedCertificate>;
  private readonly abort = new AbortController();
  private readonly retired: Retirement;
  /** Registrations from handshakes under way (their issuer check runs on the thread pool): idle() waits for them. */
  private readonly registering = new Set<Promise<void>>();
  private closed = false;

  constructor(private options: EngineOptions) {
    super();
    validateOptions(options);
    this.clock = options.clock ?? systemClock;
    this.changes = new ChangeSignal(this.clock);
    this.log = options.logger;
    this.random = options.random ?? Math.random;
    this.fetcher = options.fetcher;
    this.retired = new Retirement(this.log);
    this.binding = new StoreBinding(options.store, this.clock, this.log, (id) => this.onStoreChange(id));
    this.refreshSettings = { ...DEFAULT_REFRESH_SETTINGS, ...options.refresh };
    this.registry = new CertificateRegistry(options);
    this.queue = new FetchQueue(queueLimitsOf(options), this.clock);
    this.refresher = new Refresher({
      clock: this.clock,
      store: this.binding.store,
      storeHealth: this.binding.health,
      fetcher: options.fetcher,
      queue: this.queue,
      log: this.log,
      refreshSettings: this.refreshSettings,
      verifySettings: verifySettingsOf(options),
      leaseTtlMs: options.leaseTtlMs ?? 30_000,
      signal: this.abort.signal,
      apply: (m, event) => this.apply(m, event),
      rearm: (m) => this.armRefresh(m),
      changed: () => this.changes.notify(),
      isClosed: () => this.closed,
    });
    this.storeChanges = new StoreChanges(
      (m) => (this.registry.isRegistered(m) ? this.refresher.adoptFromStore(m).then(() => this.changes.notify()) : Promise.resolve()),
      (m) => m.inflight,
    );
  }

  /** Where staples are kept (for logs and status). */
  get storeDescription(): string {
    return this.binding.store.description;
  }

  /** New settings in place (a SIGHUP): staples stay served, timers re-planned, a new store adopted, replaced parts closed once idle. */
  reconfigure(settings: Reconfiguration): void {
    this.assertOpen();
    const { fetcher, store, ...tunables } = settings;
    validateOptions(tunables);
    const before = this.options;
    const injected = { ...(before.clock ? { clock: before.clock } : {}), ...(before.random ? { random: before.random } : {}) };
    this.options = { ...tunables, ...injected, logger: before.logger, store: store ?? before.store, fetcher: fetcher ?? before.fetcher };
    const refreshSettings = { ...DEFAULT_REFRESH_SETTINGS, ...tunables.refresh };
    const replan = JSON.stringify(refreshSettings) !== JSON.stringify(this.refreshSettings);
    this.refreshSettings = refreshSettings;
    this.queue.setLimits(queueLimitsOf(tunables));
    if (fetcher && fetcher !== this.fetcher) {
      this.retired.retire(this.fetcher, this.idle());
      this.fetcher = fetcher;
    }
    const newStore = store && store !== this.binding.store;
    if (newStore) {
      this.binding.detach();
      this.retired.retire(this.binding.store, this.idle());
      this.binding = new StoreBinding(store, this.clock, this.log, (id) => this.onStoreChange(id));
    }
    this.refresher.update({
      store: this.binding.store,
      storeHealth: this.binding.health,
      fetcher: this.fetcher,
      refreshSettings,
      verifySettings: verifySettingsOf(this.options),
      leaseTtlMs: tunables.leaseTtlMs ?? 30_000,
    });
    const nowFetchable = this.registry.setOverrides(tunables);
    const reverify = JSON.stringify(verifySettingsOf(before)) !== JSON.stringify(verifySettingsOf(this.options));
    for (const m of this.registry.all()) {
      const reverified = reverify ? this.refresher.reverify(m) : null;
      if (reverified) void this.apply(m, reverified);
      if (nowFetchable.has(m)) void this.start(m);
      if (replan && !m.inflight) void this.apply(m, { type: 'replanned' });
      if (newStore && m.fetchable) void this.refresher.adoptNewStore(m);
    }
    this.changes.notify();
  }

  // ---------------------------------------------------------------- registration

  /** Register a certificate (PEM with its chain, or DER): its stored staple is verified, and fetched unless still fresh. */
  async add(certificate: string | Uint8Array, opts: AddOptions = {}): Promise<CertificateStatus> {
    this.assertOpen();
    const label = opts.label ?? 'certificate';
    const { leaf, issuer, completed } = await this.registry.read(toBytes(certificate), label, opts.issuer === undefined ? undefined : toBytes(opts.issuer));
    await this.startCompleted(completed);
    return this.register(leaf, issuer, opts.responderUrls);
  }

  /** Certificates that were waiting for the issuer a chain just brought. */
  private async startCompleted(completed: readonly ManagedCertificate[]): Promise<void> {
    for (const m of completed) this.log.info({ ...m.who, issuer: m.issuer?.subject }, 'issuer found in a chain added later: stapling can start');
    await Promise.all(completed.map((m) => this.start(m)));
  }

  private async register(leaf: Certificate, issuer: Certificate | null, urlOverride?: readonly string[]): Promise<CertificateStatus> {
    const { managed: m, added } = this.registry.insert(leaf, issuer, urlOverride);
    if (!added) return m.status(this.clock.now());
    if (m.urls.length === 0) {
      this.log.info({ ...m.who, id: m.id }, 'certificate has no OCSP responder URL: nothing to staple');
      if (m.mustStaple) this.log.error(m.who, 'certificate is Must-Staple but names no OCSP responder: clients that enforce Must-Staple will refuse it');
    } else if (!issuer) {
      this.log.error(
        m.who,
        `the issuer "${leaf.issuer}" of this certificate is not in its chain or configured: cannot build an OCSP request until a chain with it is added`,
      );
    } else {
      await this.start(m);
    }
    this.changes.notify();
    return m.status(this.clock.now());
  }

  /** A stored staple is served at once; unless it is fresh, the first fetch starts too. */
  private async start(m: ManagedCertificate): Promise<void> {
    if (!(await this.refresher.adoptFromStore(m))) void this.refresher.refresh(m);
  }

  /** Forget a certificate (e.g. replaced by its renewal). Its stored staple stays until it expires. */
  remove(certificate: string | Uint8Array): boolean {
    return this.removeById(certificateId(readCertificates(toBytes(certificate), 'certificate')[0]!.der));
  }

  removeById(id: string): boolean {
    const m = this.registry.remove(id);
    if (!m) return false;
    m.cancelTimers();
    this.storeChanges.forget(m);
    this.changes.notify();
    return true;
  }

  // ---------------------------------------------------------------- the handshake path

  /**
   * The staple for a certificate (DER), or null. Synchronous and in memory: this is called for
   * every full handshake. A certificate never added is registered in the background, with its
   * issuer from OpenSSL's argument or from the chains already seen.
   */
  stapleFor(certDer: Buffer, issuerDer?: Buffer | null): Buffer | null {
    const m = this.registry.byDer(certDer);
    if (!m) {
      if (!this.closed) {
        const p = this.registerFromHandshake(certDer, issuerDer ?? null).finally(() => this.registering.delete(p));
        this.registering.add(p);
      }
      return null;
    }
    const s = m.servableAt(this.clock.now());
    if (s) {
      m.stapledHandshakes++;
      return s.der;
    }
    m.unstapledHandshakes++;
    return null;
  }

  /** The staple of a certificate, by id, if it stays valid `validForMs` more, or null (for faces that write staples out; counts no handshake). */
  stapleById(id: string, validForMs = 0): Buffer | null {
    return this.registry.get(id)?.servableAt(this.clock.now() + validForMs)?.der ?? null;
  }

  /** The certificate an OCSP CertID names exactly, with its staple if it stays valid `validForMs` more (or null); null if not managed. In memory: never a fetch. */
  lookupCertId(certId: CertId, validForMs = 0): CertIdLookup | null {
    return this.registry.byCertId(certId)?.lookup(this.clock.now(), validForMs) ?? null;
  }

  /** Until when `der` would be this certificate's staple, verified as a fetched one is; null if refused (a staple file found on disk). */
  validUntilById(id: string, der: Buffer): number | null {
    const m = this.registry.get(id);
    const v = m?.issuer ? this.refresher.judge(m, der) : null;
    return v?.ok ? v.validUntil : null;
  }

  /** One certificate's status, by id. */
  statusById(id: string): CertificateStatus | null {
    return this.registry.get(id)?.status(this.clock.now()) ?? null;
  }

  private async registerFromHandshake(certDer: Buffer, issuerDer: Buffer | null): Promise<void> {
    try {
      const found = await this.registry.readFromHandshake(certDer, issuerDer);
      if (!found) return;
      this.log.info(
        { subject: found.leaf.subject, serial: found.leaf.serialHex },
        'certificate seen in a handshake was not added: registering it now (this handshake gets no staple)',
      );
      await this.startCompleted(found.completed);
      await this.register(found.leaf, found.issuer);
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'could not register a certificate seen in a handshake');
    }
  }

  // ---------------------------------------------------------------- the driver

  /** Run one lifecycle transition and the effects it asks for. Resolves when its store writes are done. */
  private apply(m: ManagedCertificate, event: LifecycleEvent): Promise<void> {
    if (this.closed) return Promise.resolve();
    const before = m.life;
    const ctx = {
      now: this.clock.now(),
      settings: this.refreshSettings,
      random: this.random(),
      mustStaple: m.mustStaple,
      leaseTtlMs: this.options.leaseTtlMs ?? 30_000,
    };
    const { state, effects } = step(before, event, ctx);
    m.life = state;
    if (state.nextRefresh !== before.nextRefresh) this.armRefresh(m);
    const writes: Promise<void>[] = [];
    for (const effect of effects) {
      const write = this.run(m, effect);
      if (write) writes.push(write);
    }
    return Promise.all(writes).then(() => undefined);
  }

  private run(m: ManagedCertificate, effect: Effect): Promise<void> | null {
    switch (effect.type) {
      case 'arm-expiry':
        m.expiryTimer?.cancel();
        m.expiryTimer = this.clock.at(effect.at, () => {
          m.expiryTimer = null;
          void this.apply(m, { type: 'expired' });
          this.changes.notify();
        });
        return null;
      case 'save':
        return this.binding.health.attempt('save', () => this.binding.store.save(m.id, effect.der, effect.expiresAt), undefined);
      case 'emit':
        this.emitSafely(effect.event, m.status(this.clock.now()));
        return null;
      case 'log':
        this.log[effect.level]({ ...m.who, ...effect.fields }, effect.message);
        return null;
    }
  }

  private armRefresh(m: ManagedCertificate): void {
    m.refreshTimer?.cancel();
    m.refreshTimer = null;
    const next = m.life.nextRefresh;
    if (this.closed || !next || !this.registry.isRegistered(m)) return;
    m.refreshTimer = this.clock.at(next.at, () => {
      m.refreshTimer = null;
      void this.refresher.refresh(m);
    });
  }

  // ---------------------------------------------------------------- refreshing

  /** Refresh now (single flight: concurrent calls share one fetch). */
  refreshNow(certificate: string | Uint8Array): Promise<void> {
    const leaf = readCertificates(toBytes(certificate), 'certificate')[0]!;
    const m = this.registry.byDer(leaf.der);
    if (!m) throw new InputError('certificate', `"${leaf.subject}" was not added`);
    return this.refresher.refresh(m, true);
  }

  /** Refresh now, by the certificate's id (its status `id`). */
  refreshById(id: string): Promise<void> {
    const m = this.registry.get(id);
    if (!m) throw new InputError('certificate', `no certificate with id ${id} was added`);
    return this.refresher.refresh(m, true);
  }

  /** Another process saved a staple: load it (coalesced per certificate, bounded in all). */
  private onStoreChange(id: string): void {
    const m = this.registry.get(id);
    if (!m || this.closed || !m.fetchable) return;
    this.storeChanges.changed(m);
  }

  // ---------------------------------------------------------------- waiting and status

  /**
   * Resolve once every certificate has an acceptable response or definitely cannot have one
   * (no responder). Rejects with MustStapleError if a Must-Staple certificate cannot be stapled
   * within `timeout`; other certificates still unstapled then are listed in the report. Always
   * settles by the timeout, and keeps the process alive until then.
   */
  ready(opts: { timeout?: number } = {}): Promise<ReadyReport> {
    const { registry: r, changes, clock } = this;
    const source = { certificates: () => r.all(), isRegistered: (m: ManagedCertificate) => r.isRegistered(m), onRegister: r.onRegister.bind(r) };
    return waitUntilReady({ ...source, nextChange: (d) => changes.next(d), now: () => clock.now(), isClosed: () => this.closed }, opts.timeout ?? 10_000);
  }

  status(): CertificateStatus[] {
    const now = this.clock.now();
    return [...this.registry.all()].map((m) => m.status(now));
  }

  /** Each certificate's status, one at a time: a reader of 100,000 can pause between slices (the clock is read once per status). */
  *statuses(): IterableIterator<CertificateStatus> {
    for (const m of this.registry.all()) yield m.status(this.clock.now());
  }

  /** Resolves when no fetch is running or queued (for tests and orderly shutdown). */
  async idle(): Promise<void> {
    for (;;) {
      const inflight = [...this.registering, ...[...this.registry.all()].map((m) => m.inflight).filter((p): p is Promise<void> => p !== null)];
      if (inflight.length === 0) return;
      await Promise.allSettled(inflight);
    }
  }

  /** Stop timers and fetches, then close the fetcher and the store it was given. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    this.binding.detach();
    this.storeChanges.close();
    for (const m of this.registry.all()) m.cancelTimers();
    await this.idle();
    this.changes.notify();
    await this.retired.settled();
    await this.fetcher.close();
    await this.binding.store.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError();
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

function toBytes(input: string | Uint8Array): Uint8Array {
  return typeof input === 'string' ? Buffer.from(input) : input;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
