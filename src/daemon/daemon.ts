// The daemon: keeps staple files fresh for servers that cannot fetch well themselves (nginx,
// HAProxy, lighttpd, Envoy). The engine keeps each staple; the daemon mirrors it to a file next
// to the certificate, removes the file when no acceptable staple remains, and tells the server
// (a debounced reload command, or HAProxy's runtime API).

import { stat } from 'node:fs/promises';
import type { Clock } from '../engine/clock.ts';
import type { StapleFetcher } from '../fetch/staple-fetcher.ts';
import type { Logger } from '../engine/logger.ts';
import { certificateId } from '../engine/managed.ts';
import { StaplingEngine } from '../engine/engine.ts';
import { describeFsError, readFileCapped } from '../io/files.ts';
import { readCertificates } from '../ocsp/pem.ts';
import type { StapleStore } from '../store/store.ts';
import { configChanges, type DaemonConfig } from './config.ts';
import { CERT_FILE_LIMIT, describeError, holdsCertificate, matchCertificates, outputConflict, outputsOf, STAPLE_FILE_LIMIT } from './inputs.ts';
import { pushStaple } from './haproxy.ts';
import { writeOutputs, type WatchedFile } from './outputs.ts';
import { Reloader } from './reloader.ts';
import { daemonStore } from './store.ts';
import { fileState, leftBehind, writeState, type DaemonState } from './state.ts';
import { httpFetcherFor } from '../wiring/defaults.ts';
import { observedParts, type EngineObserver } from './engine-observer.ts';

export interface DaemonDeps {
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly fetcher?: StapleFetcher;
  readonly store?: StapleStore;
  /** Metrics and alerts: they see (and may wrap) what each engine is made of. */
  readonly observers?: readonly EngineObserver[];
}

export class Daemon {
  private engine: StaplingEngine;
  private store: StapleStore;
  private readonly log: Logger;
  private readonly files = new Map<string, WatchedFile>();
  /** The files that hold each certificate (by id), and every path the daemon writes (with the
   * file it belongs to): lookups that would otherwise walk all files, at 10,000 certificates. */
  private readonly byCert = new Map<string, Set<WatchedFile>>();
  private readonly outputs = new Map<string, WatchedFile>();
  private readonly reloader: Reloader;
  private readonly startedAt = new Date().toISOString();
  private rescanTimer: NodeJS.Timeout | null = null;
  private stateTimer: NodeJS.Timeout | null = null;
  private scanning: Promise<void> | null = null;
  private stopped = false;
  private readonly warnedEmpty = new Set<string>();
  /** Configuration reloads (SIGHUP) applied, and refused. */
  configReloads = 0;
  configReloadsRefused = 0;

  constructor(
    private config: DaemonConfig,
    private readonly deps: DaemonDeps,
  ) {
    this.log = deps.logger;
    this.reloader = new Reloader(config.reload, deps.logger);
    this.store = deps.store ?? daemonStore(config, this.log);
    this.engine = this.makeEngine();
  }

  private makeEngine(): StaplingEngine {
    const { clock, fetcher, observers = [] } = this.deps;
    const parts = observedParts(observers, { store: this.store, fetcher: fetcher ?? httpFetcherFor(this.config.engine) });
    const engine = new StaplingEngine({ ...this.config.engine, ...parts, logger: this.log, ...(clock ? { clock } : {}) });
    for (const o of observers) o.engine?.(engine);
    engine.on('updated', (s) => void this.onStapleChange(s.id));
    engine.on('expired', (s) => void this.onStapleChange(s.id));
    engine.on('refreshFailed', () => this.scheduleState());
    return engine;
  }

  /** Successful runs of the reload command. */
  get reloads(): number {
    return this.reloader.succeeded;
  }

  /** The engine now (a SIGHUP that changes the engine's settings replaces it). */
  get stapling(): StaplingEngine {
    return this.engine;
  }

  async start(): Promise<void> {
    this.log.info({ globs: this.config.certificates, store: this.store.description }, 'stapler daemon starting');
    await this.rescan();
    // This timer is what keeps the daemon's process alive (the engine's timers are unref'd).
    this.rescanTimer = setInterval(() => void this.rescan(), this.config.rescanMs);
    const { usable, unusable } = this.counts();
    this.log.info({ certificates: usable, unusable }, 'stapler daemon started');
  }

  /** Certificate files in use, and files that could not be used. */
  counts(): { usable: number; unusable: number } {
    let usable = 0;
    for (const f of this.files.values()) if (f.certId) usable++;
    return { usable, unusable: this.files.size - usable };
  }

  /** Look at every glob and every known file; pick up new, changed and removed certificates. */
  rescan(): Promise<void> {
    this.scanning ??= this.scan().finally(() => (this.scanning = null));
    return this.scanning;
  }

  private async scan(): Promise<void> {
    const { inputs, empty } = await matchCertificates(this.config, (p) => this.outputs.has(p), holdsCertificate);
    for (const glob of empty) {
      if (this.warnedEmpty.has(glob)) continue;
      this.warnedEmpty.add(glob);
      this.log.warn({ glob }, 'certificate glob matches no file');
    }
    this.log.debug({ files: inputs.size }, 'rescan');
    for (const path of inputs) {
      try {
        await this.look(path, inputs);
      } catch (err) {
        // Whatever goes wrong with one file stays with that file.
        const f = this.files.get(path);
        const reason = err instanceof Error ? err.message : String(err);
        if (f) await this.unusable(f, `unexpected error: ${reason}`).catch(() => undefined);
        else this.log.error({ file: path }, `cannot use this certificate file: unexpected error: ${reason}`);
      }
    }
    for (const [path, f] of this.files) {
      if (!inputs.has(path)) await this.forget(f, 'the certificate file is gone (or no glob matches it now)');
    }
    this.scheduleState();
  }

  private async look(path: string, inputs: ReadonlySet<string>): Promise<void> {
    let info;
    try {
      info = await stat(path);
    } catch (err) {
      return this.fileError(path, describeFsError(err));
    }
    const known = this.files.get(path);
    if (known && !known.refused && known.mtimeMs === info.mtimeMs && known.size === info.size) return;
    const { stapleFile, includeFile } = outputsOf(this.config, path);
    const refused = outputConflict(path, { stapleFile, includeFile }, inputs, (o) => this.outputs.get(o)?.path ?? null);
    if (known?.refused) {
      if (refused === known.refused) return;
      this.files.delete(path);
    }
    const f: WatchedFile = (known?.refused ? undefined : known) ?? {
      path,
      stapleFile,
      includeFile,
      mtimeMs: 0,
      size: 0,
      certId: null,
      subject: null,
      serial: null,
      written: null,
      include: null,
      error: null,
      refused,
      syncing: Promise.resolve(),
    };
    if (refused) {
      this.files.set(path, f);
      f.error = refused;
      this.log.error({ file: path }, `cannot use this certificate file: ${refused}`);
      return;
    }
    if (!known || known.refused) {
      this.files.set(path, f);
      this.outputs.set(f.stapleFile, f);
      if (f.includeFile) this.outputs.set(f.includeFile, f);
      f.written = await readFileCapped(f.stapleFile, STAPLE_FILE_LIMIT, { regularFileOnly: true }).catch(() => null);
      this.log.debug({ file: path, stapleFile: f.stapleFile, existingStaple: f.written !== null }, 'new certificate file');
    }
    f.mtimeMs = info.mtimeMs;
    f.size = info.size;
    await this.load(f);
  }

  /** (Re)read a certificate file and register what it holds. */
  private async load(f: WatchedFile): Promise<void> {
    let bytes: Buffer;
    let chain;
    try {
      bytes = await readFileCapped(f.path, CERT_FILE_LIMIT, { regularFileOnly: true });
      chain = readCertificates(bytes, f.path);
    } catch (err) {
      return this.unusable(f, describeError(err));
    }
    const id = certificateId(chain[0]!.der);
    const sameCertificate = f.certId === id;
    if (sameCertificate) {
      // Same certificate, other bytes (say, its missing issuer was appended): register it again
      // if the engine could not use it before.
      if (this.engine.statusById(id)?.state !== 'no-issuer') return;
      this.engine.removeById(id);
    }
    const previous = sameCertificate ? null : f.certId;
    this.holdCertificate(f, id);
    f.subject = chain[0]!.subject;
    f.serial = chain[0]!.serialHex;
    f.error = null;
    if (previous) {
      this.log.info({ file: f.path, serial: f.serial }, 'certificate file changed (renewed): its old staple will not be written for the new certificate');
    }
    // A staple file left from before (e.g. by another tool) seeds the store if the store has
    // nothing: the engine verifies it like any stored staple.
    if (f.written && !previous && (await this.store.load(id).catch(() => null)) === null) {
      await this.store.save(id, f.written, 0).catch(() => undefined);
    }
    try {
      const issuer = this.config.issuer ? await readFileCapped(this.config.issuer, CERT_FILE_LIMIT, { regularFileOnly: true }) : undefined;
      const status = await this.engine.add(bytes, { label: f.path, ...(issuer ? { issuer } : {}) });
      this.log.debug({ file: f.path, serial: f.serial, state: status.state }, 'certificate registered');
    } catch (err) {
      return this.unusable(f, describeError(err));
    }
    await this.sync(f);
  }

  private unusable(f: WatchedFile, reason: string): Promise<void> {
    this.log.error({ file: f.path }, `cannot use this certificate file: ${reason}`);
    this.holdCertificate(f, null);
    f.subject = null;
    f.serial = null;
    f.error = reason;
    return this.sync(f);
  }

  private fileError(path: string, reason: string): void {
    const f = this.files.get(path);
    this.log.error({ file: path }, `cannot read this certificate file: ${reason}`);
    if (f) f.error = reason;
  }

  private async forget(f: WatchedFile, why: string): Promise<void> {
    this.files.delete(f.path);
    if (f.refused) return;
    this.log.info({ file: f.path }, `${why}: removing its staple file`);
    this.holdCertificate(f, null);
    await this.sync(f);
    this.outputs.delete(f.stapleFile);
    if (f.includeFile) this.outputs.delete(f.includeFile);
  }

  /** Point a file at a certificate (or none); the engine forgets a certificate no file holds. */
  private holdCertificate(f: WatchedFile, id: string | null): void {
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
    for (const f of [...(this.byCert.get(id) ?? [])]) await this.sync(f);
    this.scheduleState();
  }

  /**
   * Make the staple file (and nginx include) match the engine: the staple, or no file at all.
   * Serialised per file: two interleaved syncs (an expiry and a new staple) could otherwise
   * leave an include that says "on" beside a removed staple file.
   */
  private sync(f: WatchedFile): Promise<void> {
    f.syncing = f.syncing
      .then(() => this.syncNow(f))
      .catch((err: unknown) => this.log.error({ file: f.path }, `cannot update the staple file: ${describeError(err)}`));
    return f.syncing;
  }

  private async syncNow(f: WatchedFile): Promise<void> {
    if (this.stopped || f.refused) return;
    const staple = f.certId ? this.engine.stapleById(f.certId) : null;
    const noResponder = f.certId !== null && this.engine.statusById(f.certId)?.state === 'no-responder';
    const change = await writeOutputs(f, staple, noResponder, this.log);
    if (!change) return;
    const { stapleCurrent, removed, includeChanged } = change;
    if (stapleCurrent && !removed && !includeChanged) return;
    // HAProxy takes a new staple through its runtime API with no reload. It reads the files
    // only when it (re)loads, so a removal, or a push it refuses (a certificate it loaded
    // without a staple file, or a renewal it has not loaded yet), needs the reload command.
    const pushed = staple && !stapleCurrent ? await pushStaple(this.config, staple, f, this.log) : false;
    if (!pushed && (removed || includeChanged || (staple && !stapleCurrent))) this.reloader.schedule();
    this.scheduleState();
  }

  /**
   * Apply a new configuration (SIGHUP): files whose outputs move are forgotten (their old
   * files removed) and picked up again; new engine settings or store mean a new engine,
   * which reads the staples back from the store. Returns what changed, for the log.
   */
  async reconfigure(next: DaemonConfig): Promise<string[]> {
    await this.scanning;
    const changes = configChanges(this.config, next);
    // A new issuer file also means registering every certificate again.
    const engineChanged = changes.some((k) => k.startsWith('engine') || k === 'storeDir' || k === 'store' || k === 'issuer');
    for (const f of [...this.files.values()]) {
      const outputs = outputsOf(next, f.path);
      if (outputs.stapleFile !== f.stapleFile || outputs.includeFile !== f.includeFile) await this.forget(f, 'its output paths changed');
    }
    this.config = next;
    this.reloader.configure(next.reload);
    if (engineChanged) {
      await this.engine.close();
      if (!this.deps.store) this.store = daemonStore(next, this.log);
      this.engine = this.makeEngine();
      this.byCert.clear();
      // Register every file with the new engine on the rescan below.
      for (const f of this.files.values()) {
        f.certId = null;
        f.mtimeMs = -1;
      }
    }
    if (this.rescanTimer) {
      clearInterval(this.rescanTimer);
      this.rescanTimer = setInterval(() => void this.rescan(), next.rescanMs);
    }
    this.warnedEmpty.clear();
    await this.rescan();
    this.configReloads++;
    return changes;
  }

  /** Refresh every certificate now (SIGUSR1 in `stapler daemon`). */
  async refreshAll(): Promise<void> {
    await Promise.all([...this.byCert.keys()].map((id) => this.engine.refreshById(id).catch(() => undefined)));
  }

  /** Resolves once the reload that is due (if any) has run. */
  settled(): Promise<void> {
    return this.reloader.settled();
  }

  private scheduleState(): void {
    if (this.stateTimer || this.stopped) return;
    this.stateTimer = setTimeout(() => {
      this.stateTimer = null;
      void this.saveState();
    }, 200);
  }

  state(): DaemonState {
    const now = this.deps.clock?.now() ?? Date.now();
    const files = [...this.files.values()].map((f) => fileState(f, f.certId ? this.engine.statusById(f.certId) : null, now));
    const { usable, unusable } = this.counts();
    return {
      pid: process.pid,
      startedAt: this.startedAt,
      updatedAt: new Date().toISOString(),
      certificates: usable,
      unusable,
      reloads: this.reloader.succeeded,
      reloadFailures: this.reloader.failed,
      configReloads: this.configReloads,
      configReloadsRefused: this.configReloadsRefused,
      files,
    };
  }

  async saveState(): Promise<void> {
    try {
      await writeState(this.config.stateFile, this.state());
    } catch (err) {
      this.log.warn({ file: this.config.stateFile, err: describeFsError(err) }, 'cannot write the state file');
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    if (this.rescanTimer) clearInterval(this.rescanTimer);
    await this.scanning;
    // A stop during start(): start() may have set its timer once the first scan ended.
    if (this.rescanTimer) clearInterval(this.rescanTimer);
    if (this.stateTimer) clearTimeout(this.stateTimer);
    this.stateTimer = null;
    this.stopped = true;
    await this.reloader.stop();
    const left = leftBehind(this.files.values(), (id) => this.engine.statusById(id));
    await this.engine.close();
    await this.saveState();
    if (left) this.log.warn(left, 'stapler daemon stopped: its staple files stay, and nothing removes them at expiry until it runs again');
    else this.log.info({}, 'stapler daemon stopped');
  }
}
