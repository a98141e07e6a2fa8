// stapler status: what the daemon is doing, from its state file. Exit codes follow the
// monitoring-plugin convention: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. The verdict is the one
// the daemon wrote for each file (the same /healthz and /status read); line 1 holds it whole,
// for monitoring tools; then a summary and the certificates with a problem (all with --all).

import { defaultStateFile } from '../../daemon/config.ts';
import { verdictOf, type DaemonState, type FileState } from '../../daemon/state.ts';
import { overall, type Judged, type VerdictLevel } from '../../engine/verdict.ts';
import { readFileCapped } from '../../io/files.ts';
import { InputError } from '../../ocsp/errors.ts';

export const STATUS_EXIT = { ok: 0, warning: 1, critical: 2, unknown: 3 } as const;
const WIDTH = 80;
/** A state file of 100,000 certificates is about 80 MB: this bounds what is read. */
const STATE_FILE_LIMIT = 512 * 1024 * 1024;
const CODES: Record<VerdictLevel, number> = { OK: STATUS_EXIT.ok, WARNING: STATUS_EXIT.warning, CRITICAL: STATUS_EXIT.critical };

type JudgedFile = FileState & Judged;

export async function statusCommand(
  opts: { state?: string; json?: boolean; all?: boolean },
  io: { out: (s: string) => void; log: (s: string) => void },
  now = Date.now(),
): Promise<number> {
  const path = opts.state ?? defaultStateFile();
  let state: DaemonState;
  try {
    state = await readState(path);
  } catch (err) {
    const message = err instanceof InputError ? err.message : String(err);
    if (opts.json) io.out(JSON.stringify({ stateFile: path, verdict: 'UNKNOWN', error: message }));
    io.log(`UNKNOWN: ${message}`);
    return STATUS_EXIT.unknown;
  }
  const running = isRunning(state.pid);
  const files: JudgedFile[] = state.files.map((f) => ({ ...f, ...verdictOf(f, now) }));
  const { verdict, code, reasons } = judgeFiles(files, state.pid, running);
  if (opts.json) {
    io.out(JSON.stringify({ stateFile: path, running, verdict, reasons, ...state, files }));
    return code;
  }
  const shown = opts.all ? files : files.filter((f) => f.verdict !== 'OK');
  const rows = shown.map((f) => [elide(f.file, 24), f.summary, shortTime(f.nextUpdate), shortTime(f.nextRefreshAt)]);
  const header = ['certificate', 'status', 'next update', 'next refresh'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  const out = [
    firstLine(verdict, reasons),
    `state file ${path}`,
    `daemon pid ${state.pid} (${running ? 'running' : 'NOT RUNNING'}), started ${state.startedAt}`,
    `as of ${state.updatedAt}: ${count(state)}, ${state.reloads} reload(s)${state.reloadFailures ? `, ${state.reloadFailures} failed` : ''}`,
    ...summaryLines(files),
    '',
  ];
  if (shown.length === 0 && !opts.all) out.push('no certificate has a problem (--all lists them all)');
  else {
    if (!opts.all) out.push(`with a problem: ${shown.length} (--all lists every certificate)`);
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

function summaryLines(files: readonly JudgedFile[]): string[] {
  const byState = new Map<string, number>();
  for (const f of files) byState.set(f.state, (byState.get(f.state) ?? 0) + 1);
  const o = overall(files, (f) => f.file, 0);
  return [
    `verdicts: ${o.counts.CRITICAL} CRITICAL, ${o.counts.WARNING} WARNING, ${o.counts.OK} OK`,
    `states: ${[...byState].map(([s, n]) => `${n} ${s}`).join(', ') || 'none'}`,
  ];
}

function count(state: DaemonState): string {
  const usable = state.certificates ?? state.files.filter((f) => f.state !== 'unusable').length;
  const unusable = state.unusable ?? state.files.length - usable;
  return `${usable} certificate(s)${unusable ? `, ${unusable} unusable file(s)` : ''}`;
}

/** The overall verdict: the worst file's, and CRITICAL when the daemon is not running. */
export function judgeFiles(files: readonly JudgedFile[], pid: number, running: boolean): { verdict: VerdictLevel; code: number; reasons: string[] } {
  const o = overall(files, (f) => f.file, 0);
  const reasons = [...(running ? [] : [`the daemon (pid ${pid}) is not running`]), ...o.reasons];
  const verdict: VerdictLevel = running ? o.verdict : 'CRITICAL';
  if (verdict === 'OK') {
    const n = (state: string): number => files.filter((f) => f.state === state).length;
    const quiet = [
      `${n('stapled')} stapled`,
      ...(n('pending') ? [`${n('pending')} waiting for a first staple`] : []),
      `${n('no-responder')} without an OCSP responder`,
    ];
    return { verdict, code: CODES.OK, reasons: quiet };
  }
  return { verdict, code: CODES[verdict], reasons };
}

async function readState(path: string): Promise<DaemonState> {
  let parsed: unknown;
  try {
    parsed = JSON.parse((await readFileCapped(path, STATE_FILE_LIMIT, { regularFileOnly: true })).toString('utf8'));
  } catch (err) {
    if (err instanceof InputError) throw new InputError(path, `${err.reason} (is the daemon running, and is this its state file? --state names another)`);
    throw new InputError(path, 'is not a stapler state file');
  }
  if (!isDaemonState(parsed)) throw new InputError(path, 'is not a stapler state file');
  // State files from earlier versions hold epoch milliseconds.
  const iso = (t: unknown): string | null => (typeof t === 'number' ? new Date(Math.round(t)).toISOString() : typeof t === 'string' ? t : null);
  return {
    ...parsed,
    reloadFailures: parsed.reloadFailures ?? 0,
    files: parsed.files.map((f) => ({
      ...f,
      thisUpdate: iso(f.thisUpdate),
      nextUpdate: iso(f.nextUpdate),
      validUntil: iso(f.validUntil),
      nextRefreshAt: iso(f.nextRefreshAt),
    })),
  };
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

function isDaemonState(x: unknown): x is DaemonState {
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
