// The daemon: keeps staple files fresh for servers that cannot fetch well themselves (nginx,
// HAProxy, lighttpd, Envoy). The engine keeps each staple; the daemon mirrors it to a file next
// to the certificate, removes the file when no acceptable staple remains, and tells the server
// (a debounced reload command, or HAProxy's runtime API).

import { execFile } from 'node:child_process';
import { stat, unlink } from 'node:fs/promises';
import type { Clock } from '../engine/clock.ts';
import type { StapleFetcher } from '../fetch/staple-fetcher.ts';
import type { Logger } from '../engine/logger.ts';
import { certificateId } from '../engine/managed.ts';
import { StaplingEngine } from '../engine/engine.ts';
import type { CertificateStatus } from '../engine/types.ts';
import { describeFsError, readFileCapped, writeFileAtomic } from '../io/files.ts';
import { InputError } from '../ocsp/errors.ts';
import { readCertificates } from '../ocsp/pem.ts';
import { DirectoryStore } from '../store/directory-store.ts';
import type { StapleStore } from '../store/store.ts';
import { expandTemplate, type DaemonConfig } from './config.ts';
import { expandGlob } from './glob.ts';
import { pushOcspResponse } from './haproxy.ts';
import { writeState, type DaemonState, type FileState } from './state.ts';
import { httpFetcherFor } from '../wiring/defaults.ts';

const CERT_FILE_LIMIT = 1024 * 1024;
const STAPLE_FILE_LIMIT = 1024 * 1024;

interface WatchedFile {
  readonly path: string;
  readonly stapleFile: string;
  readonly includeFile: string | null;
  mtimeMs: number;
  size: number;
  /** The certificate in it (its id), or null when the file could not be used. */
  certId: string | null;
  subject: string | null;
  serial: string | null;
  /** The bytes last written to the staple file (null: no staple file). */
  written: Buffer | null;
  error: string | null;
}

export interface DaemonDeps {
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly fetcher?: StapleFetcher;
  readonly store?: StapleStore;
}

export class Daemon {
  private readonly engine: StaplingEngine;
  private readonly store: StapleStore;
  private readonly log: Logger;
  private readonly files = new Map<string, WatchedFile>();
  /** The files that hold each certificate (by id), and every path the daemon writes: lookups
   * that would otherwise walk all files for every file, at 10,000 certificates. */
  private readonly byCert = new Map<string, Set<WatchedFile>>();
  private readonly outputs = new Set<string>();
  private readonly startedAt = new Date().toISOString();
  private rescanTimer: NodeJS.Timeout | null = null;
  private reloadTimer: NodeJS.Timeout | null = null;
  private stateTimer: NodeJS.Timeout | null = null;
  private scanning: Promise<void> | null = null;
  private stopped = false;
  /** A reload that is due (debounced), and how to tell its waiters that it ran. */
  private pendingReload: { readonly promise: Promise<void>; readonly resolve: () => void } | null = null;
  reloads = 0;

  constructor(
    private readonly config: DaemonConfig,
    deps: DaemonDeps,
  ) {
    this.log = deps.logger;
    this.store = deps.store ?? new DirectoryStore(config.storeDir);
    this.engine = new StaplingEngine({ ...config.engine, store: this.store, logger: deps.logger, fetcher: deps.fetcher ?? httpFetcherFor(config.engine), ...(deps.clock ? { clock: deps.clock } : {}) });
    this.engine.on('updated', (s) => void this.onStapleChange(s.id));
    this.engine.on('expired', (s) => void this.onStapleChange(s.id));
    this.engine.on('refreshFailed', () => this.scheduleState());
  }

  async start(): Promise<void> {
    await this.rescan();
    // This timer is what keeps the daemon's process alive (the engine's timers are unref'd).
    this.rescanTimer = setInterval(() => void this.rescan(), this.config.rescanMs);
    this.log.info({ certificates: this.files.size, store: this.store.description }, 'stapler daemon started');
  }

  /** Look at every glob and every known file; pick up new, changed and removed certificates. */
  rescan(): Promise<void> {
    this.scanning ??= this.scan().finally(() => (this.scanning = null));
    return this.scanning;
  }

  private async scan(): Promise<void> {
    const seen = new Set<string>();
    for (const pattern of this.config.certificates) {
      const matches = await expandGlob(pattern);
      if (matches.length === 0 && !this.warnedEmpty.has(pattern)) {
        this.warnedEmpty.add(pattern);
        this.log.warn({ glob: pattern }, 'certificate glob matches no file');
      }
      for (const path of matches) {
        // A staple file or an nginx include matching a broad glob is not a certificate.
        if (this.isOutput(path)) continue;
        seen.add(path);
        await this.look(path);
      }
    }
    for (const [path, f] of this.files) {
      if (!seen.has(path)) await this.forget(f, 'the certificate file is gone');
    }
    this.scheduleState();
  }

  private readonly warnedEmpty = new Set<string>();

  private isOutput(path: string): boolean {
    return this.outputs.has(path) || path.endsWith('.ocsp') || path.endsWith('.issuer');
  }

  private async look(path: string): Promise<void> {
    let info;
    try {
      info = await stat(path);
    } catch (err) {
      return this.fileError(path, describeFsError(err));
    }
    const known = this.files.get(path);
    if (known && known.mtimeMs === info.mtimeMs && known.size === info.size) return;
    const f: WatchedFile = known ?? {
      path,
      stapleFile: expandTemplate(this.config.stapleFile, path),
      includeFile: this.config.nginxInclude ? expandTemplate(this.config.nginxInclude, path) : null,
      mtimeMs: 0,
      size: 0,
      certId: null,
      subject: null,
      serial: null,
      written: null,
      error: null,
    };
    if (!known) {
      this.files.set(path, f);
      this.outputs.add(f.stapleFile);
      if (f.includeFile) this.outputs.add(f.includeFile);
      f.written = await readFileCapped(f.stapleFile, STAPLE_FILE_LIMIT).catch(() => null);
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
      bytes = await readFileCapped(f.path, CERT_FILE_LIMIT);
      chain = readCertificates(bytes, f.path);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      return this.unusable(f, err.message);
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
      const issuer = this.config.issuer ? await readFileCapped(this.config.issuer, CERT_FILE_LIMIT) : undefined;
      const status = await this.engine.add(bytes, { label: f.path, ...(issuer ? { issuer } : {}) });
      if (status.state === 'no-issuer') f.error = `the issuer of "${status.subject}" is not in the file: give the full chain or the issuer setting`;
      if (status.state === 'no-responder') f.error = null;
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      return this.unusable(f, err.message);
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
    this.log.info({ file: f.path }, `${why}: removing its staple file`);
    this.files.delete(f.path);
    this.outputs.delete(f.stapleFile);
    if (f.includeFile) this.outputs.delete(f.includeFile);
    this.holdCertificate(f, null);
    await this.sync(f);
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

  /** Make the staple file (and nginx include) match the engine: the staple, or no file at all. */
  private async sync(f: WatchedFile): Promise<void> {
    if (this.stopped) return;
    const staple = f.certId ? this.engine.stapleById(f.certId) : null;
    if (staple && f.written && staple.equals(f.written)) return;
    if (!staple && !f.written) return;
    try {
      if (staple) {
        await writeFileAtomic(f.stapleFile, staple, 0o644);
        if (f.includeFile) await writeFileAtomic(f.includeFile, Buffer.from(`# written by stapler: a staple is available\nssl_stapling on;\nssl_stapling_file ${f.stapleFile};\n`), 0o644);
        this.log.info({ file: f.stapleFile, serial: f.serial }, 'staple file written');
      } else {
        if (f.includeFile) await writeFileAtomic(f.includeFile, Buffer.from('# written by stapler: no acceptable staple, so none is served\nssl_stapling off;\n'), 0o644);
        await unlink(f.stapleFile).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT') throw err;
        });
        this.log.warn({ file: f.stapleFile, serial: f.serial }, 'no acceptable staple: staple file removed');
      }
    } catch (err) {
      this.log.error({ file: f.stapleFile, err: describeFsError(err) }, 'cannot write the staple file');
      return;
    }
    f.written = staple;
    // HAProxy takes a new staple through its runtime API with no reload. It reads the files
    // only when it (re)loads, so a removal, or a push it refuses (a certificate it loaded
    // without a staple file, or a renewal it has not loaded yet), needs the reload command.
    const pushed = staple && this.config.haproxy ? await this.pushToHaproxy(f, staple) : false;
    if (!pushed) this.scheduleReload();
    this.scheduleState();
  }

  private async pushToHaproxy(f: WatchedFile, staple: Buffer): Promise<boolean> {
    const { socket, timeoutMs } = this.config.haproxy!;
    try {
      await pushOcspResponse(socket, staple, timeoutMs);
      this.log.info({ socket, serial: f.serial }, 'staple pushed to HAProxy');
      return true;
    } catch (err) {
      this.log.error(
        { socket, serial: f.serial, file: f.path },
        `cannot push the staple to HAProxy: ${(err as Error).message}${this.config.reload ? '; running the reload command instead' : ''}`,
      );
      return false;
    }
  }

  private scheduleReload(): void {
    const reload = this.config.reload;
    if (!reload || this.stopped) return;
    if (!this.pendingReload) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.pendingReload = { promise, resolve };
    }
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => void this.runReload(), reload.debounceMs);
  }

  private async runReload(): Promise<void> {
    this.reloadTimer = null;
    const pending = this.pendingReload;
    const reload = this.config.reload;
    this.pendingReload = null;
    if (!pending || !reload) return;
    await new Promise<void>((resolve) => {
      execFile('/bin/sh', ['-c', reload.command], { timeout: 60_000 }, (err, stdout, stderr) => {
        this.reloads++;
        if (err) this.log.error({ command: reload.command, stderr: stderr.trim() }, `reload command failed: ${err.message}`);
        else this.log.info({ command: reload.command, output: `${stdout}${stderr}`.trim() }, 'reload command ran');
        resolve();
      });
    });
    pending.resolve();
  }

  /** Refresh every certificate now (SIGUSR1 in `stapler daemon`). */
  async refreshAll(): Promise<void> {
    await Promise.all([...this.byCert.keys()].map((id) => this.engine.refreshById(id).catch(() => undefined)));
  }

  /** Resolves once the reload that is due (if any) has run. */
  settled(): Promise<void> {
    return this.pendingReload?.promise ?? Promise.resolve();
  }

  private scheduleState(): void {
    if (this.stateTimer || this.stopped) return;
    this.stateTimer = setTimeout(() => {
      this.stateTimer = null;
      void this.saveState();
    }, 200);
  }

  state(): DaemonState {
    const files: FileState[] = [...this.files.values()].map((f) => {
      const s: CertificateStatus | null = f.certId ? this.engine.statusById(f.certId) : null;
      return {
        file: f.path,
        stapleFile: f.stapleFile,
        stapleWritten: f.written !== null,
        subject: f.subject,
        serial: f.serial,
        state: s?.state ?? 'unusable',
        certStatus: s?.certStatus ?? null,
        mustStaple: s?.mustStaple ?? false,
        thisUpdate: s?.thisUpdate ?? null,
        nextUpdate: s?.nextUpdate ?? null,
        validUntil: s?.validUntil ?? null,
        nextRefreshAt: s?.nextRefreshAt ?? null,
        lastError: f.error ?? (s?.lastError ? `${s.lastError.reason}: ${s.lastError.message}` : null),
      };
    });
    return { pid: process.pid, startedAt: this.startedAt, updatedAt: new Date().toISOString(), reloads: this.reloads, files };
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
    if (this.stateTimer) clearTimeout(this.stateTimer);
    this.stateTimer = null;
    this.stopped = true;
    // Run a reload that is due now, rather than drop it: the server should see the last files.
    if (this.reloadTimer) {
      clearTimeout(this.reloadTimer);
      await this.runReload();
    }
    await this.engine.close();
    await this.saveState();
    this.log.info({}, 'stapler daemon stopped');
  }
}
