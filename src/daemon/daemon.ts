// The daemon: keeps staple files fresh for servers that cannot fetch well themselves (nginx,
// HAProxy, lighttpd, Envoy). Thin wiring: the certificate source finds files and their
// changes, the one engine (for the process's life: a SIGHUP reconfigures it in place) keeps
// each staple, the output writer mirrors it to files, HAProxy and the reload command, and the
// state file tells `stapler status`. Every timer runs on the injected clock.

import { systemClock, type Clock, type TimerHandle } from '../engine/clock.ts';
import { StaplingEngine } from '../engine/engine.ts';
import type { Logger } from '../engine/logger.ts';
import { certificateId } from '../engine/managed.ts';
import type { StapleFetcher } from '../fetch/staple-fetcher.ts';
import { readFileCapped } from '../io/files.ts';
import type { Certificate } from '../ocsp/certificate.ts';
import type { StapleStore } from '../store/store.ts';
import { httpFetcherFor } from '../wiring/defaults.ts';
import { CertificateSource, type SourceSink } from './certificate-source.ts';
import { configChanges, type DaemonConfig } from './config.ts';
import { CERT_FILE_LIMIT, describeError, outputsOf, STAPLE_FILE_LIMIT } from './inputs.ts';
import type { OutputHealth } from './output-health.ts';
import { OutputWriter } from './output-writer.ts';
import type { WatchedFile } from './outputs.ts';
import { Reloader } from './reloader.ts';
import { fileState, leftBehind, type DaemonCounters, type DaemonState, type FileState } from './state.ts';
import { StateFile } from './state-file.ts';
import { daemonStore } from './store.ts';

export interface DaemonDeps {
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly fetcher?: StapleFetcher;
  readonly store?: StapleStore;
  /** Wrap each fetcher and store the engine is given (metrics count through them). */
  readonly instrument?: { fetcher?(f: StapleFetcher): StapleFetcher; store?(s: StapleStore): StapleStore };
}

export class Daemon implements SourceSink {
  /** The one engine, for the daemon's whole life. */
  readonly engine: StaplingEngine;
  private readonly log: Logger;
  private readonly clock: Clock;
  private store: StapleStore;
  private readonly source: CertificateSource;
  private readonly writer: OutputWriter;
  private readonly reloader: Reloader;
  private readonly stateFile: StateFile;
  /** The files that hold each certificate (by id). */
  private readonly byCert = new Map<string, Set<WatchedFile>>();
  private readonly startedAt: number;
  private rescanTimer: TimerHandle | null = null;
  private scanning: Promise<void> | null = null;
  private stopped = false;
  private configReloads = 0;
  private configReloadsRefused = 0;

  constructor(
    private config: DaemonConfig,
    private readonly deps: DaemonDeps,
  ) {
    this.log = deps.logger;
    this.clock = deps.clock ?? systemClock;
    this.startedAt = this.clock.now();
    this.store = this.storeFor(config);
    this.engine = new StaplingEngine({ ...config.engine, store: this.store, fetcher: this.fetcherFor(config), logger: this.log, clock: this.clock });
    this.reloader = new Reloader(config.reload, this.log, this.clock, () => this.rescan());
    this.stateFile = new StateFile(config.stateFile, { counters: () => this.counters(), files: () => this.fileStates() }, this.clock, this.log);
    this.writer = new OutputWriter(config, this.engine, this.reloader, this.clock, this.log, () => this.stateFile.schedule());
    this.source = new CertificateSource(config, this.log, this);
    this.reloader.onReloaded = () => this.writer.afterReload();
    this.engine.on('updated', (s) => void this.onStapleChange(s.id));
    this.engine.on('expired', (s) => void this.onStapleChange(s.id));
    this.engine.on('refreshFailed', () => this.stateFile.schedule());
  }

  private storeFor(config: DaemonConfig): StapleStore {
    const store = this.deps.store ?? daemonStore(config, this.log);
    return this.deps.instrument?.store?.(store) ?? store;
  }

  private fetcherFor(config: DaemonConfig): StapleFetcher {
    const fetcher = this.deps.fetcher ?? httpFetcherFor(config.engine);
    return this.deps.instrument?.fetcher?.(fetcher) ?? fetcher;
  }

  async start(): Promise<void> {
    this.log.info({ globs: this.config.certificates, store: this.store.description }, 'stapler daemon starting');
    await this.rescan();
    this.armRescan();
    const { usable, unusable } = this.counts();
    this.log.info({ certificates: usable, unusable }, 'stapler daemon started');
  }

  /** The next rescan, on the clock; it keeps the process alive (the engine's timers do not). */
  private armRescan(): void {
    this.rescanTimer?.cancel();
    if (this.stopped) return;
    this.rescanTimer = this.clock.at(this.clock.now() + this.config.rescanMs, () => void this.rescan().then(() => this.armRescan()), true);
  }

  /** Certificate files in use, and files that could not be used. */
  counts(): { usable: number; unusable: number } {
    let usable = 0;
    for (const f of this.source.files.values()) if (f.certId) usable++;
    return { usable, unusable: this.source.files.size - usable };
  }

  /** Look at every glob and every known file; pick up new, changed and removed certificates. */
  rescan(): Promise<void> {
    this.scanning ??= this.source
      .scan()
      .then(() => this.stateFile.schedule())
      .finally(() => (this.scanning = null));
    return this.scanning;
  }

  /** A new or changed certificate file (SourceSink). */
  async found(f: WatchedFile, bytes: Buffer, chain: readonly Certificate[]): Promise<void> {
    const leaf = chain[0]!;
    const id = certificateId(leaf.der);
    const same = f.certId === id;
    if (same) {
      // Same certificate, other bytes (its missing issuer appended, say): register it again only if the engine could not use it.
      if (this.engine.statusById(id)?.state !== 'no-issuer') return;
      this.engine.removeById(id);
    }
    const previous = same ? null : f.certId;
    const first = !same && previous === null && f.written === null;
    this.hold(f, id);
    f.subject = leaf.subject;
    f.serial = leaf.serialHex;
    f.error = null;
    if (previous) {
      this.log.info({ file: f.path, serial: f.serial }, 'certificate file changed (renewed): its old staple is withdrawn at once');
      await this.writer.sync(f); // not after the first fetch: a reload meanwhile would pair the new certificate with the old staple
    }
    if (first && f.stapleFile) await this.seedFromStapleFile(f, f.stapleFile, id);
    try {
      const issuer = this.config.issuer ? await readFileCapped(this.config.issuer, CERT_FILE_LIMIT, { regularFileOnly: true }) : undefined;
      const status = await this.engine.add(bytes, { label: f.path, ...(issuer ? { issuer } : {}) });
      this.log.debug({ file: f.path, serial: f.serial, state: status.state }, 'certificate registered');
    } catch (err) {
      return this.unusable(f, describeError(err));
    }
    await this.writer.sync(f);
  }

  /** A staple file left from before (by another tool, say) seeds the store if it has nothing: the engine verifies it like any stored staple. */
  private async seedFromStapleFile(f: WatchedFile, stapleFile: string, id: string): Promise<void> {
    f.written = await readFileCapped(stapleFile, STAPLE_FILE_LIMIT, { regularFileOnly: true }).catch(() => null);
    this.log.debug({ file: f.path, stapleFile, existingStaple: f.written !== null }, 'new certificate file');
    if (f.written && (await this.store.load(id).catch(() => null)) === null) await this.store.save(id, f.written, 0).catch(() => undefined);
  }

  /** A file that cannot be used (SourceSink): its certificate is let go and its outputs say so. */
  async unusable(f: WatchedFile, reason: string): Promise<void> {
    this.log.error({ file: f.path }, `cannot use this certificate file: ${reason}`);
    this.hold(f, null);
    f.subject = null;
    f.serial = null;
    f.error = reason;
    await this.writer.sync(f);
  }

  /** A file gone (SourceSink): its staple file is removed. */
  async removed(f: WatchedFile, why: string): Promise<void> {
    this.log.info({ file: f.path }, `${why}: removing its staple file`);
    this.hold(f, null);
    await this.writer.sync(f);
    this.writer.forget(f);
  }

  /** Point a file at a certificate (or none); the engine forgets a certificate no file holds. */
  private hold(f: WatchedFile, id: string | null): void {
    const previous = f.certId;
    if (previous === id) return;
    if (previous) {
      const holders = this.byCert.get(previous)!;
      holders.delete(f);
      if (holders.size === 0) {
        this.byCert.delete(previous);
        this.engine.removeById(previous);
      }
    }
    f.certId = id;
    if (id) {
      let holders = this.byCert.get(id);
      if (!holders) this.byCert.set(id, (holders = new Set()));
      holders.add(f);
    }
  }

  private async onStapleChange(id: string): Promise<void> {
    await Promise.all([...(this.byCert.get(id) ?? [])].map((f) => this.writer.sync(f)));
    this.stateFile.schedule();
  }

  /** Resolves once every output write under way, and any queued meanwhile, has ended (a staple change queues each file's at once). */
  outputsWritten(): Promise<void> {
    return this.writer.settled(() => this.source.files.values());
  }

  /** Each output of each file holding this certificate: whether its last write worked, the error, since when. */
  outputHealth(certId: string): readonly OutputHealth[] {
    return [...(this.byCert.get(certId) ?? [])].flatMap((f) => this.writer.health(f));
  }

  /**
   * Apply a new configuration (SIGHUP) to the running parts: the engine is reconfigured in
   * place (no staple is dropped, no certificate registered again), files whose outputs move
   * are forgotten (old files removed) and picked up again. Returns what changed, for the log.
   */
  async reconfigure(next: DaemonConfig): Promise<string[]> {
    await this.scanning;
    const changes = configChanges(this.config, next);
    for (const f of [...this.source.files.values()]) {
      const outputs = outputsOf(next, f.path);
      if (outputs.stapleFile !== f.stapleFile || outputs.includeFile !== f.includeFile) await this.source.forget(f, 'its output paths changed');
    }
    this.config = next;
    this.source.configure(next);
    this.reloader.configure(next.reload);
    this.writer.configure(next);
    this.stateFile.moveTo(next.stateFile);
    const storeChanged = changes.includes('storeDir') || changes.includes('store');
    const fetcherChanged = changes.some((k) => k.startsWith('engine.') && !ENGINE_ONLY.has(k));
    if (storeChanged || changes.some((k) => k.startsWith('engine'))) {
      const store = storeChanged && !this.deps.store ? this.storeFor(next) : undefined;
      if (store) this.store = store;
      this.engine.reconfigure({
        ...next.engine,
        ...(store ? { store } : {}),
        ...(fetcherChanged && !this.deps.fetcher ? { fetcher: this.fetcherFor(next) } : {}),
      });
    }
    // A new issuer file concerns only the certificates that lack an issuer: they are read again.
    if (changes.includes('issuer'))
      for (const f of this.source.files.values()) if (f.certId && this.engine.statusById(f.certId)?.state === 'no-issuer') this.source.invalidate(f);
    await this.rescan();
    this.armRescan();
    this.configReloads++;
    return changes;
  }

  /** A configuration reload refused (it did not parse): counted in the state. */
  reloadRefused(): void {
    this.configReloadsRefused++;
    this.stateFile.schedule();
  }

  /** Refresh every certificate now (SIGUSR1 in `stapler daemon`). */
  async refreshAll(): Promise<void> {
    await Promise.all([...this.byCert.keys()].map((id) => this.engine.refreshById(id).catch(() => undefined)));
  }

  /** Resolves once the reload that is due (if any) has run. */
  settled(): Promise<void> {
    return this.reloader.settled();
  }

  /** Every file's state, built as it is read. */
  *fileStates(now = this.clock.now()): Generator<FileState> {
    for (const f of this.source.files.values()) yield fileState(f, f.certId ? this.engine.statusById(f.certId) : null, now, this.writer.health(f));
  }

  /** The first file that holds the certificate (the `cert` label of metrics and alerts), or null. */
  fileOf(certId: string): string | null {
    for (const f of this.byCert.get(certId) ?? []) return f.path;
    return null;
  }

  counters(): DaemonCounters {
    const { usable: certificates, unusable } = this.counts();
    const { succeeded: reloads, failed: reloadFailures } = this.reloader;
    const { configReloads, configReloadsRefused } = this;
    const [startedAt, updatedAt] = [this.startedAt, this.clock.now()].map((t) => new Date(t).toISOString()) as [string, string];
    return { pid: process.pid, startedAt, updatedAt, certificates, unusable, reloads, reloadFailures, configReloads, configReloadsRefused };
  }

  state(): DaemonState {
    return { ...this.counters(), files: [...this.fileStates()] };
  }

  saveState(): Promise<void> {
    return this.stateFile.save();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.rescanTimer?.cancel();
    await this.scanning;
    this.rescanTimer?.cancel();
    this.stateFile.stop();
    // Writes in progress finish (and schedule their reload) before the reload due runs.
    await this.outputsWritten();
    this.writer.stop();
    await this.reloader.stop();
    const left = leftBehind(this.source.files.values(), (id) => this.engine.statusById(id));
    await this.engine.close();
    await this.stateFile.save();
    if (left) this.log.warn(left, 'stapler daemon stopped: its staple files stay, and nothing removes them at expiry until it runs again');
    else this.log.info({}, 'stapler daemon stopped');
  }
}

/** Engine settings the HTTP fetcher is not built from: any other change means a new fetcher. */
const ENGINE_ONLY = new Set(['engine.refresh', 'engine.concurrency', 'engine.leaseTtlMs', 'engine.responderUrls', 'engine.responderUrlsByIssuer']);
