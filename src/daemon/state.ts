// The daemon's state, per certificate file and in all: what the state file (state-file.ts),
// /status.json and `stapler status` are made of. Every time in it is an ISO 8601 string.

import type { CertificateState, CertificateStatus } from '../engine/types.ts';
import { judge, withOutputs, type OutputHealth, type Verdict } from '../engine/verdict.ts';

/** A certificate file, with the engine's facts and verdict for it (the verdict `stapler status`, /healthz and /status read). */
export interface FileState extends Verdict {
  readonly file: string;
  /** null: no staple files (`stapleFile: false`). */
  readonly stapleFile: string | null;
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
  /** The last error, while its cause lasts (a file that cannot be used, a failing refresh). */
  readonly lastError: string | null;
  /** Refreshes that failed in a row. */
  readonly failures: number;
  /** Each output's health (the daemon's output writer fills it). */
  readonly outputs: readonly OutputHealth[];
}

/** The daemon's counters: the head of the state file, of its detail file, and of /status.json. */
export interface DaemonCounters {
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
}

/** The daemon's whole state, in memory (/status.json, /healthz, the status page). */
export interface DaemonState extends DaemonCounters {
  readonly files: readonly FileState[];
}

export const isoOrNull = (t: number | null | undefined): string | null => (t === null || t === undefined ? null : new Date(Math.round(t)).toISOString());

export function fileState(
  f: { path: string; stapleFile: string | null; written: Buffer | null; subject: string | null; serial: string | null; error: string | null },
  status: CertificateStatus | null,
  now: number,
  outputs: readonly OutputHealth[] = [],
): FileState {
  const s = status && withOutputs(status, outputs, now);
  // A failed output is the last error while it lasts (/status.json showed none).
  const failedOutput = outputs.find((o) => !o.ok);
  const failing = s?.state === 'unstapled' || s?.state === 'stapled-refresh-failing';
  const unusable: Verdict = {
    verdict: 'WARNING',
    summary: 'unusable',
    serving: false,
    atRisk: false,
    problems: [`cannot use this file: ${f.error ?? 'unknown'}`],
  };
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
      (failing && s?.lastError ? `${s.lastError.reason}: ${s.lastError.message}` : null) ??
      (failedOutput ? `output failing: ${failedOutput.kind} ${failedOutput.target}: ${failedOutput.error ?? 'failed'}` : null),
    failures: s?.consecutiveFailures ?? 0,
    verdict: s?.verdict ?? unusable.verdict,
    summary: s?.summary ?? unusable.summary,
    serving: s?.serving ?? false,
    atRisk: s?.atRisk ?? false,
    problems: s?.problems ?? unusable.problems,
    outputs,
  };
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

/**
 * A file's verdict as the daemon wrote it; for a state file from an earlier version (without one),
 * judged now from the facts it holds, by the same rule.
 */
export function verdictOf(f: Omit<FileState, keyof Verdict | 'failures' | 'outputs'> & Partial<FileState>, now: number): Verdict {
  if (f.verdict && f.summary !== undefined && f.problems)
    return { verdict: f.verdict, summary: f.summary, serving: f.serving ?? false, atRisk: f.atRisk ?? false, problems: f.problems };
  if (f.state === 'unusable')
    return { verdict: 'WARNING', summary: 'unusable', serving: false, atRisk: false, problems: [`cannot use this file: ${f.lastError ?? 'unknown'}`] };
  const at = (t: string | null): number | null => (t === null ? null : Date.parse(t));
  const colon = f.lastError?.indexOf(': ') ?? -1;
  const lastError = f.lastError
    ? { reason: colon > 0 ? f.lastError.slice(0, colon) : f.lastError, message: colon > 0 ? f.lastError.slice(colon + 2) : '' }
    : null;
  const facts = {
    state: f.state as CertificateState,
    certStatus: f.certStatus,
    mustStaple: f.mustStaple,
    validUntil: at(f.validUntil),
    nextRefreshAt: at(f.nextRefreshAt),
    lastError,
  };
  return judge(facts, now, f.outputs ?? []);
}
