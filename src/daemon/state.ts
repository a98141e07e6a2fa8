// The daemon's state file: what `stapler status` reads. Every time in it is an ISO 8601 string.

import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Clock, TimerHandle } from '../engine/clock.ts';
import type { Logger } from '../engine/logger.ts';
import type { CertificateStatus } from '../engine/types.ts';
import { describeFsError, writeFileAtomic } from '../io/files.ts';
import type { OutputHealth } from './output-health.ts';

/** An output in the state file: its time as ISO 8601. */
export type OutputState = Omit<OutputHealth, 'since'> & { readonly since: string };

export interface FileState {
  readonly file: string;
  readonly stapleFile: string;
  readonly stapleWritten: boolean;
  readonly subject: string | null;
  readonly serial: string | null;
  /** The engine's state for the certificate, or 'unusable' when the file could not be used. */
  readonly state: string;
  readonly certStatus: 'good' | 'revoked' | null;
  readonly mustStaple: boolean;
  readonly thisUpdate: string | null;
  readonly nextUpdate: string | null;
  readonly validUntil: string | null;
  readonly nextRefreshAt: string | null;
  readonly lastError: string | null;
  /** Each output (staple file, include, HAProxy push, reload command): whether its last write worked. */
  readonly outputs: readonly OutputState[];
}

export interface DaemonState {
  readonly pid: number;
  readonly startedAt: string;
  readonly updatedAt: string;
  /** Certificate files in use, and files that could not be used. */
  readonly certificates: number;
  readonly unusable: number;
  /** Runs of the reload command that succeeded, and runs that failed. */
  readonly reloads: number;
  readonly reloadFailures: number;
  /** Configuration reloads (SIGHUP) applied, and refused. */
  readonly configReloads: number;
  readonly configReloadsRefused: number;
  readonly files: readonly FileState[];
}

export const isoOrNull = (t: number | null | undefined): string | null => (t === null || t === undefined ? null : new Date(Math.round(t)).toISOString());

export function fileState(
  f: { path: string; stapleFile: string; written: Buffer | null; subject: string | null; serial: string | null; error: string | null },
  s: CertificateStatus | null,
  outputs: readonly OutputHealth[] = [],
): FileState {
  const failed = outputs.find((o) => !o.ok);
  return {
    file: f.path,
    stapleFile: f.stapleFile,
    stapleWritten: f.written !== null,
    subject: f.subject,
    serial: f.serial,
    state: s?.state ?? 'unusable',
    certStatus: s?.certStatus ?? null,
    mustStaple: s?.mustStaple ?? false,
    thisUpdate: isoOrNull(s?.thisUpdate),
    nextUpdate: isoOrNull(s?.nextUpdate),
    validUntil: isoOrNull(s?.validUntil),
    nextRefreshAt: isoOrNull(s?.nextRefreshAt),
    lastError:
      f.error ??
      (s?.lastError ? `${s.lastError.reason}: ${s.lastError.message}` : null) ??
      (failed ? `output failing: ${failed.kind} ${failed.target}: ${failed.error ?? ''}` : null),
    outputs: outputs.map((o) => ({ ...o, since: new Date(o.since).toISOString() })),
  };
}

export async function writeState(path: string, state: DaemonState): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, Buffer.from(`${JSON.stringify(state, null, 2)}\n`), 0o644);
}

/** The staple files a stopping daemon leaves for the servers, and when the first of them expires; null if none. */
export function leftBehind(
  files: Iterable<{ readonly written: Buffer | null; readonly certId: string | null }>,
  statusOf: (id: string) => CertificateStatus | null,
): { stapleFiles: number; firstExpiry: string } | null {
  let count = 0;
  let first = Infinity;
  for (const f of files) {
    if (!f.written || !f.certId) continue;
    count++;
    first = Math.min(first, statusOf(f.certId)?.validUntil ?? Infinity);
  }
  return count > 0 && Number.isFinite(first) ? { stapleFiles: count, firstExpiry: new Date(first).toISOString() } : null;
}

/** The state file, written at most once per 200 ms (or 10x its last write) after a change (on the injected clock). */
export class StateFile {
  private timer: TimerHandle | null = null;
  private stopped = false;
  private lastSaveMs = 0;

  constructor(
    private path: string,
    private readonly build: () => DaemonState,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  moveTo(path: string): void {
    this.path = path;
  }

  schedule(): void {
    if (this.timer || this.stopped) return;
    // A save is O(files): every 200 ms took all the CPU at 100,000 files, so wait 10x the last one.
    this.timer = this.clock.at(this.clock.now() + Math.max(200, 10 * this.lastSaveMs), () => {
      this.timer = null;
      void this.save();
    });
  }

  async save(): Promise<void> {
    const started = this.clock.now();
    try {
      await writeState(this.path, this.build());
      this.lastSaveMs = this.clock.now() - started;
    } catch (err) {
      this.log.warn({ file: this.path, err: describeFsError(err) }, 'cannot write the state file');
    }
  }

  /** No more scheduled writes (a last save() still writes). */
  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
  }
}
