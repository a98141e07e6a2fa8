// stapler status: what the daemon is doing, from its state file. Exit codes follow the
// monitoring-plugin convention: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.

import { defaultStateFile } from '../../daemon/config.ts';
import type { DaemonState, FileState } from '../../daemon/state.ts';
import { readFileCapped } from '../../io/files.ts';
import { InputError } from '../../ocsp/errors.ts';

export const STATUS_EXIT = { ok: 0, warning: 1, critical: 2, unknown: 3 } as const;
const WIDTH = 80;

export async function statusCommand(opts: { state?: string; json?: boolean }, io: { out: (s: string) => void; log: (s: string) => void }): Promise<number> {
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
  const { verdict, code, reasons } = judge(state, running);
  if (opts.json) {
    io.out(JSON.stringify({ stateFile: path, running, verdict, reasons, ...state }));
    return code;
  }
  const rows = state.files.map((f) => [elide(f.file, 24), statusLabel(f), shortTime(f.nextUpdate), shortTime(f.nextRefreshAt)]);
  const header = ['certificate', 'status', 'next update', 'next refresh'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  const out = [
    `${verdict}: ${reasons.join('; ')}`,
    `state file ${path}`,
    `daemon pid ${state.pid} (${running ? 'running' : 'NOT RUNNING'}), started ${state.startedAt}`,
    `as of ${state.updatedAt}: ${count(state)}, ${state.reloads} reload(s)${state.reloadFailures ? `, ${state.reloadFailures} failed` : ''}`,
    '',
    line(header),
  ];
  for (const [i, f] of state.files.entries()) {
    out.push(line(rows[i]!));
    if (f.lastError) out.push(elideEnd(`  ${f.lastError}`, WIDTH));
  }
  io.out(out.map((l) => (l.length > WIDTH ? elideEnd(l, WIDTH) : l)).join('\n'));
  return code;
}

function count(state: DaemonState): string {
  const usable = state.certificates ?? state.files.filter((f) => f.state !== 'unusable').length;
  const unusable = state.unusable ?? state.files.length - usable;
  return `${usable} certificate(s)${unusable ? `, ${unusable} unusable file(s)` : ''}`;
}

/** The verdict: CRITICAL when a server goes without a staple it needs (or the daemon is down), WARNING when something needs a look. */
export function judge(state: DaemonState, running: boolean): { verdict: 'OK' | 'WARNING' | 'CRITICAL'; code: number; reasons: string[] } {
  const critical: string[] = [];
  const warning: string[] = [];
  const n = (pred: (f: FileState) => boolean): number => state.files.filter(pred).length;
  if (!running) critical.push(`the daemon (pid ${state.pid}) is not running`);
  const revoked = n((f) => f.certStatus === 'revoked');
  if (revoked) critical.push(`${revoked} certificate(s) REVOKED`);
  const unstapled = n((f) => f.state === 'unstapled');
  if (unstapled) critical.push(`${unstapled} certificate(s) without a staple`);
  const failing = n((f) => f.state === 'stapled-refresh-failing');
  if (failing) warning.push(`${failing} staple(s) whose refresh is failing`);
  const pending = n((f) => f.state === 'pending');
  if (pending) warning.push(`${pending} certificate(s) waiting for a first staple`);
  for (const f of state.files)
    for (const o of f.outputs ?? []) if (!o.ok) warning.push(`${f.file}: cannot write its ${o.kind} ${o.target}: ${o.error ?? 'failed'}`);
  const broken = n((f) => f.state === 'unusable' || f.state === 'no-issuer');
  if (broken) warning.push(`${broken} file(s) that cannot be used`);
  if (critical.length > 0) return { verdict: 'CRITICAL', code: STATUS_EXIT.critical, reasons: [...critical, ...warning] };
  if (warning.length > 0) return { verdict: 'WARNING', code: STATUS_EXIT.warning, reasons: warning };
  return {
    verdict: 'OK',
    code: STATUS_EXIT.ok,
    reasons: [`${n((f) => f.state === 'stapled')} stapled, ${n((f) => f.state === 'no-responder')} without an OCSP responder`],
  };
}

async function readState(path: string): Promise<DaemonState> {
  let parsed: unknown;
  try {
    parsed = JSON.parse((await readFileCapped(path, 16 * 1024 * 1024, { regularFileOnly: true })).toString('utf8'));
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

function statusLabel(f: FileState): string {
  if (f.certStatus === 'revoked') return 'REVOKED';
  return f.state === 'stapled-refresh-failing' ? 'stapled, failing' : f.state;
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
