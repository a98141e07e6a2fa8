// stapler status: what the daemon is doing, from its state file. Exit codes follow the
// monitoring-plugin convention: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. The verdict is the one
// the daemon wrote for each file (the same /healthz and /status read); line 1 holds it whole,
// for monitoring tools; then a summary and the certificates with a problem, from the state
// file's summary; --all and --json read every file from the detail file beside it.

import { basename, dirname, join } from 'node:path';
import { defaultStateFile } from '../../daemon/config.ts';
import { verdictOf, type DaemonCounters, type FileState } from '../../daemon/state.ts';
import { SummaryBuilder, type StateSummary } from '../../daemon/state-summary.ts';
import { type Judged, type VerdictLevel } from '../../engine/verdict.ts';
import { readFileCapped } from '../../io/files.ts';
import { InputError } from '../../ocsp/errors.ts';

export const STATUS_EXIT = { ok: 0, warning: 1, critical: 2, unknown: 3 } as const;
const WIDTH = 80;
/** The summary is small (counts, at most 1,000 problems); a state file of an earlier version holds every file, about 80 MB at 100,000. */
const STATE_FILE_LIMIT = 512 * 1024 * 1024;
/** The detail file: about 650 bytes per file, 65 MB at 100,000. */
const DETAIL_FILE_LIMIT = 1024 * 1024 * 1024;
const CODES: Record<VerdictLevel, number> = { OK: STATUS_EXIT.ok, WARNING: STATUS_EXIT.warning, CRITICAL: STATUS_EXIT.critical };

type JudgedFile = FileState & Judged;

export async function statusCommand(
  opts: { state?: string; json?: boolean; all?: boolean },
  io: { out: (s: string) => void; log: (s: string) => void },
  now = Date.now(),
): Promise<number> {
  const path = opts.state ?? defaultStateFile();
  let read: { summary: StateSummary; files: JudgedFile[] | null };
  try {
    read = await readState(path, now);
  } catch (err) {
    const message = err instanceof InputError ? err.message : String(err);
    if (opts.json) io.out(JSON.stringify({ stateFile: path, verdict: 'UNKNOWN', error: message }));
    io.log(`UNKNOWN: ${message}`);
    return STATUS_EXIT.unknown;
  }
  const { summary } = read;
  // Every file (--all, --json): from the detail file, which is written less often than the summary.
  let files = read.files;
  let detailNote: string | null = null;
  if ((opts.all || opts.json) && !files) {
    try {
      files = await readDetail(join(dirname(path), basename(summary.detail.file)), summary, now);
    } catch (err) {
      detailNote = `every certificate: ${basename(summary.detail.file)}: ${err instanceof InputError ? err.reason : String(err)}`;
    }
  }
  const running = isRunning(summary.pid);
  const { verdict, code, reasons } = judgeSummary(summary, running);
  if (opts.json) {
    io.out(JSON.stringify({ stateFile: path, ...summary, running, verdict, reasons, ...(files ? { files } : { detailError: detailNote }) }));
    return code;
  }
  const shown = opts.all && files ? files : summary.problems;
  const rows = shown.map((f) => [elide(f.file, 24), f.summary, shortTime(f.nextUpdate), shortTime(f.nextRefreshAt)]);
  const header = ['certificate', 'status', 'next update', 'next refresh'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  const soonest = summary.soonest[0];
  const out = [
    firstLine(verdict, reasons),
    `state file ${path}`,
    `daemon pid ${summary.pid} (${running ? 'running' : 'NOT RUNNING'}), started ${summary.startedAt}`,
    `as of ${summary.updatedAt}: ${count(summary)}, ${summary.reloads} reload(s)${summary.reloadFailures ? `, ${summary.reloadFailures} failed` : ''}`,
    `verdicts: ${summary.verdicts.CRITICAL} CRITICAL, ${summary.verdicts.WARNING} WARNING, ${summary.verdicts.OK} OK`,
    `states: ${
      Object.entries(summary.states)
        .map(([s, n]) => `${n} ${s}`)
        .join(', ') || 'none'
    }`,
    ...(soonest ? [`soonest to lapse: ${elide(soonest.file, 40)} at ${shortTime(soonest.validUntil)}`] : []),
    ...(detailNote ? [detailNote] : []),
    ...(opts.all && files && summary.detail.updatedAt ? [`every certificate as of ${summary.detail.updatedAt}`] : []),
    '',
  ];
  const problems = summary.verdicts.CRITICAL + summary.verdicts.WARNING;
  if (shown.length === 0 && !(opts.all && files)) out.push('no certificate has a problem (--all lists them all)');
  else {
    if (!(opts.all && files))
      out.push(`with a problem: ${problems}${summary.problemsOmitted ? ` (the first ${shown.length} listed)` : ''} (--all lists every certificate)`);
    out.push(line(header));
  }
  for (const [i, f] of shown.entries()) {
    out.push(line(rows[i]!));
    for (const p of f.problems) out.push(elideEnd(`  ${p}`, WIDTH));
  }
  io.out(out.map((l) => (l.length > WIDTH ? elideEnd(l, WIDTH) : l)).join('\n'));
  return code;
}

/**
 * Line 1, at most 80 columns: the verdict and as many whole reasons as fit, then how many more
 * (monitoring tools read this line: nothing in it is cut in the middle).
 */
export function firstLine(verdict: string, reasons: readonly string[], width = WIDTH): string {
  let text = `${verdict}:`;
  for (const [i, r] of reasons.entries()) {
    const left = reasons.length - i - 1;
    const tail = left > 0 ? ` (+${left} more)` : '';
    const next = `${text}${i === 0 ? ' ' : ', '}${r}`;
    // Room for this reason, and for the "+N more" that may follow it.
    if (next.length + tail.length > width && i > 0) return `${text} (+${reasons.length - i} more)`;
    text = next;
  }
  return text.length > width ? elideEnd(text, width) : text;
}

function count(s: DaemonCounters): string {
  return `${s.certificates} certificate(s)${s.unusable ? `, ${s.unusable} unusable file(s)` : ''}`;
}

/** The overall verdict: the daemon's, and CRITICAL when the daemon is not running. */
export function judgeSummary(s: StateSummary, running: boolean): { verdict: VerdictLevel; code: number; reasons: string[] } {
  const reasons = [...(running ? [] : [`the daemon (pid ${s.pid}) is not running`]), ...s.reasons];
  const verdict: VerdictLevel = running ? s.verdict : 'CRITICAL';
  if (verdict === 'OK') {
    const n = (state: string): number => s.states[state] ?? 0;
    const quiet = [
      `${n('stapled')} stapled`,
      ...(n('pending') ? [`${n('pending')} waiting for a first staple`] : []),
      `${n('no-responder')} without an OCSP responder`,
    ];
    return { verdict, code: CODES.OK, reasons: quiet };
  }
  return { verdict, code: CODES[verdict], reasons };
}

/** The summary, and every file for a state file of an earlier version (which holds them all: its summary is made from them). */
async function readState(path: string, now: number): Promise<{ summary: StateSummary; files: JudgedFile[] | null }> {
  const parsed = await readJson(path, STATE_FILE_LIMIT);
  if (isSummary(parsed)) return { summary: parsed, files: null };
  if (!isLegacyState(parsed)) throw new InputError(path, 'is not a stapler state file');
  const files = parsed.files.map((f) => judged(f, now));
  const builder = new SummaryBuilder();
  for (const f of files) builder.add(f);
  const { pid, startedAt, updatedAt, reloads, configReloads, configReloadsRefused } = parsed;
  const certificates = parsed.certificates ?? files.filter((f) => f.state !== 'unusable').length;
  const unusable = parsed.unusable ?? files.length - certificates;
  const counters = {
    pid,
    startedAt,
    updatedAt,
    certificates,
    unusable,
    reloads,
    reloadFailures: parsed.reloadFailures ?? 0,
    configReloads,
    configReloadsRefused,
  };
  const summary = builder.finish(counters, { file: '', updatedAt });
  return { summary, files };
}

/** The detail file: a line of counters (the daemon's pid and start, to match the summary's), then one file's state per line. */
async function readDetail(path: string, summary: StateSummary, now: number): Promise<JudgedFile[]> {
  let text: string;
  try {
    text = (await readFileCapped(path, DETAIL_FILE_LIMIT, { regularFileOnly: true })).toString('utf8');
  } catch (err) {
    throw err instanceof InputError ? new InputError(path, `${err.reason} (the daemon writes it at most every minute)`) : err;
  }
  const lines = text.split('\n').filter((l) => l !== '');
  try {
    const head = JSON.parse(lines[0] ?? '') as Partial<DaemonCounters>;
    if (head.pid !== summary.pid || head.startedAt !== summary.startedAt)
      throw new InputError(path, 'is from another run of the daemon (it writes its own at most every minute)');
    return lines.slice(1).map((l) => judged(JSON.parse(l) as FileState, now));
  } catch (err) {
    throw err instanceof InputError ? err : new InputError(path, 'is not a stapler detail file');
  }
}

async function readJson(path: string, limit: number): Promise<unknown> {
  try {
    return JSON.parse((await readFileCapped(path, limit, { regularFileOnly: true })).toString('utf8'));
  } catch (err) {
    if (err instanceof InputError) throw new InputError(path, `${err.reason} (is the daemon running, and is this its state file? --state names another)`);
    throw new InputError(path, 'is not a stapler state file');
  }
}

/** A file's state, its times as ISO strings (state files from earlier versions hold epoch milliseconds), with its verdict. */
function judged(f: FileState, now: number): JudgedFile {
  const iso = (t: unknown): string | null => (typeof t === 'number' ? new Date(Math.round(t)).toISOString() : typeof t === 'string' ? t : null);
  const g = { ...f, thisUpdate: iso(f.thisUpdate), nextUpdate: iso(f.nextUpdate), validUntil: iso(f.validUntil), nextRefreshAt: iso(f.nextRefreshAt) };
  return { ...g, ...verdictOf(g, now) };
}

/** "2026-11-22T06:34Z" from an ISO time: still ISO 8601 (UTC, to the minute), and fits 80 columns. */
export function shortTime(t: string | null): string {
  return t === null ? '-' : `${t.slice(0, 16)}Z`;
}

/** A path that fits `max` characters: its end is kept (the file name says the most). */
export function elide(path: string, max: number): string {
  if (path.length <= max) return path;
  const tail = path.slice(path.length - (max - 1));
  const slash = tail.indexOf('/');
  return `…${slash >= 0 && slash < tail.length - 1 ? tail.slice(slash) : tail}`;
}

function elideEnd(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function isSummary(x: unknown): x is StateSummary {
  const s = x as Partial<StateSummary> | null;
  return typeof s === 'object' && s !== null && s.format === 2 && typeof s.pid === 'number' && Array.isArray(s.problems) && typeof s.detail?.file === 'string';
}

type LegacyState = Partial<DaemonCounters> & {
  pid: number;
  startedAt: string;
  updatedAt: string;
  reloads: number;
  configReloads: number;
  configReloadsRefused: number;
  files: FileState[];
};

function isLegacyState(x: unknown): x is LegacyState {
  return typeof x === 'object' && x !== null && Array.isArray((x as { files?: unknown }).files) && typeof (x as { pid?: unknown }).pid === 'number';
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
