// The daemon's certificate source: expands the globs, looks at each file, and reports what
// changed to its sink: a file added or changed (its bytes and chain), one that cannot be used
// (why), one removed. It decides nothing about staples. Errors are not absences: a glob that
// cannot be read keeps its last matches, and a file that cannot be read now (EMFILE, EIO, a
// half-written renewal) keeps its registration until it reads the same way twice.

import { eachLimited } from '../io/each-limited.ts';
import { stat } from 'node:fs/promises';
import type { Logger } from '../engine/logger.ts';
import { describeFsError, readFileCapped } from '../io/files.ts';
import type { Certificate } from '../ocsp/certificate.ts';
import { readCertificates } from '../ocsp/pem.ts';
import type { DaemonConfig } from './config.ts';
import { CERT_FILE_LIMIT, describeError, holdsCertificate, matchCertificates, outputConflict, outputsOf } from './inputs.ts';
import { newWatchedFile, type WatchedFile } from './outputs.ts';

/** Errors that say nothing about the file itself: try again at the next scan. */
const TRANSIENT = /\b(EMFILE|ENFILE|EIO|EAGAIN|ETIMEDOUT|ENOMEM|EBUSY|ESTALE)\b/;

export interface SourceSink {
  /** A new file, or one whose contents changed: its bytes and chain. */
  found(f: WatchedFile, bytes: Buffer, chain: readonly Certificate[]): Promise<void>;
  /** A file that cannot be used (anymore). */
  unusable(f: WatchedFile, reason: string): Promise<void>;
  /** A file gone (or no glob matches it now). */
  removed(f: WatchedFile, why: string): Promise<void>;
}

export class CertificateSource {
  readonly files = new Map<string, WatchedFile>();
  /** Every output path (staple file, include), with the file it belongs to. */
  readonly outputs = new Map<string, WatchedFile>();
  private readonly lastMatches = new Map<string, readonly string[]>();
  private readonly warnedEmpty = new Set<string>();
  /** Globs that cannot be read now, with why (logged once when this starts, once when it ends). */
  private readonly unknownGlobs = new Map<string, string>();

  constructor(
    private config: DaemonConfig,
    private readonly log: Logger,
    private readonly sink: SourceSink,
  ) {}

  configure(config: DaemonConfig): void {
    this.config = config;
    this.warnedEmpty.clear();
  }

  /** Look at every glob and every known file; report new, changed and removed ones. */
  async scan(): Promise<void> {
    const { inputs, empty, unknown } = await matchCertificates(this.config, (p) => this.outputs.has(p), holdsCertificate, this.lastMatches);
    this.noteUnknown(unknown);
    for (const glob of empty) {
      if (this.warnedEmpty.has(glob)) continue;
      this.warnedEmpty.add(glob);
      this.log.warn({ glob }, 'certificate glob matches no file');
    }
    this.log.debug({ files: inputs.size }, 'rescan');
    // 64 files at a time: one after the other, 100,000 files took minutes of waiting on I/O.
    await eachLimited(inputs, 64, async (path) => {
      try {
        await this.look(path, inputs);
      } catch (err) {
        // Whatever goes wrong with one file stays with that file.
        const f = this.files.get(path);
        const reason = `unexpected error: ${describeError(err)}`;
        if (f) await this.sink.unusable(f, reason).catch(() => undefined);
        else this.log.error({ file: path }, `cannot use this certificate file: ${reason}`);
      }
    });
    for (const [path, f] of this.files) if (!inputs.has(path)) await this.forget(f, 'the certificate file is gone (or no glob matches it now)');
  }

  /** Forget a file: its outputs are removed by the sink. */
  async forget(f: WatchedFile, why: string): Promise<void> {
    this.files.delete(f.path);
    if (f.refused) return;
    await this.sink.removed(f, why);
    if (f.stapleFile) this.outputs.delete(f.stapleFile);
    if (f.includeFile) this.outputs.delete(f.includeFile);
  }

  /** Read this file again at the next scan, whatever its times say. */
  invalidate(f: WatchedFile): void {
    f.mtimeMs = -1;
  }

  private noteUnknown(unknown: readonly { glob: string; reason: string }[]): void {
    const now = new Map(unknown.map((u) => [u.glob, u.reason]));
    for (const [glob, reason] of now)
      if (!this.unknownGlobs.has(glob))
        this.log.error({ glob, err: reason }, 'cannot read the certificate glob: keeping the files it matched last, retrying at each rescan');
    for (const glob of this.unknownGlobs.keys()) if (!now.has(glob)) this.log.info({ glob }, 'the certificate glob can be read again');
    this.unknownGlobs.clear();
    for (const [g, r] of now) this.unknownGlobs.set(g, r);
  }

  private async look(path: string, inputs: ReadonlySet<string>): Promise<void> {
    let info;
    try {
      info = await stat(path);
    } catch (err) {
      // Unknown, not gone: it keeps what it holds, and says so once.
      const f = this.files.get(path);
      const reason = describeFsError(err);
      if (f?.error !== reason) this.log.error({ file: path }, `cannot read this certificate file: ${reason}`);
      if (f) f.error = reason;
      return;
    }
    const known = this.files.get(path);
    if (known && !known.refused && known.mtimeMs === info.mtimeMs && known.size === info.size) return;
    const outputs = outputsOf(this.config, path);
    const refused = outputConflict(path, outputs, inputs, (o) => this.outputs.get(o)?.path ?? null);
    if (known?.refused) {
      if (refused === known.refused) return;
      this.files.delete(path);
    }
    const fresh = !known || Boolean(known.refused);
    const f = fresh ? newWatchedFile(path, outputs, refused) : known;
    if (refused) {
      this.files.set(path, f);
      f.error = refused;
      this.log.error({ file: path }, `cannot use this certificate file: ${refused}`);
      return;
    }
    if (fresh) {
      this.files.set(path, f);
      if (f.stapleFile) this.outputs.set(f.stapleFile, f);
      if (f.includeFile) this.outputs.set(f.includeFile, f);
    }
    f.mtimeMs = info.mtimeMs;
    f.size = info.size;
    let bytes: Buffer;
    let chain: Certificate[];
    try {
      bytes = await readFileCapped(path, CERT_FILE_LIMIT, { regularFileOnly: true });
      chain = readCertificates(bytes, path);
    } catch (err) {
      return this.unreadable(f, describeError(err));
    }
    f.brokenSince = null;
    await this.sink.found(f, bytes, chain);
  }

  /**
   * A file that cannot be read or parsed now. One that holds a certificate keeps it while the
   * failure may pass: a transient error, or new contents not yet seen twice (a renewal being
   * written). Anything else makes it unusable.
   */
  private async unreadable(f: WatchedFile, reason: string): Promise<void> {
    if (f.certId && TRANSIENT.test(reason)) {
      this.log.warn({ file: f.path, err: reason }, 'cannot read this certificate file now: keeping its certificate, trying again at the next rescan');
      this.invalidate(f);
      return;
    }
    const sameAsBefore = f.brokenSince !== null && f.brokenSince.mtimeMs === f.mtimeMs && f.brokenSince.size === f.size;
    if (f.certId && !sameAsBefore) {
      // Maybe half written: look again at the next scan before giving up its certificate.
      f.brokenSince = { mtimeMs: f.mtimeMs, size: f.size };
      this.log.debug({ file: f.path, err: reason }, 'certificate file unreadable: looking again before giving up its certificate');
      this.invalidate(f);
      return;
    }
    await this.sink.unusable(f, reason);
  }
}
