// stapler status: what the daemon is doing, from its state file.

import { DEFAULT_STATE_FILE } from '../../daemon/config.ts';
import type { DaemonState } from '../../daemon/state.ts';
import { readFileCapped } from '../../io/files.ts';
import { InputError } from '../../ocsp/errors.ts';
import { EXIT } from '../exit-codes.ts';

export async function statusCommand(opts: { state?: string; json?: boolean }, io: { out: (s: string) => void; now: () => number }): Promise<number> {
  const path = opts.state ?? DEFAULT_STATE_FILE;
  let parsed: unknown;
  try {
    parsed = JSON.parse((await readFileCapped(path, 16 * 1024 * 1024)).toString('utf8'));
  } catch (err) {
    if (err instanceof InputError) throw new InputError(path, `${err.reason} (is the daemon running, and is this its state file? --state names another)`);
    throw new InputError(path, 'is not a stapler state file');
  }
  if (!isDaemonState(parsed)) throw new InputError(path, 'is not a stapler state file');
  const state = parsed;
  const running = isRunning(state.pid);
  if (opts.json) {
    io.out(JSON.stringify({ ...state, running }));
    return EXIT.ok;
  }
  const iso = (t: number | null): string => (t === null ? '-' : new Date(t).toISOString().replace('.000Z', 'Z'));
  const rows = state.files.map((f) => [f.file, f.state + (f.certStatus === 'revoked' ? ' (REVOKED)' : ''), iso(f.thisUpdate), iso(f.nextUpdate), iso(f.nextRefreshAt), f.lastError ?? '-']);
  const header = ['certificate', 'status', 'thisUpdate', 'nextUpdate', 'next refresh', 'last error'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => Math.min(r[i]!.length, i === 5 ? 80 : 200))));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 5 ? c.slice(0, 80) : c.padEnd(widths[i]!))).join('  ');
  io.out(
    [
      `stapler daemon pid ${state.pid} (${running ? 'running' : 'not running'}), started ${state.startedAt}, state as of ${state.updatedAt}, ${state.reloads} reload(s)`,
      line(header),
      ...rows.map(line),
    ].join('\n'),
  );
  return EXIT.ok;
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
