// A real server process started by a test: resolved once it says it is ready, stopped by the
// caller (each test stops what it started).

import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { waitFor } from './wait.ts';

export interface ServerProcess {
  readonly child: ChildProcess;
  /** What it printed so far (stdout and stderr). */
  output(): string;
  /** SIGTERM, then SIGKILL after 5 s; resolves once it has exited. */
  stop(): Promise<void>;
}

/** Whether `cmd args` runs and exits 0 (to skip a test, with a reason, when a peer is missing). */
export const runs = (cmd: string, args: readonly string[]): boolean => spawnSync(cmd, args, { encoding: 'utf8' }).status === 0;

export async function startServer(
  cmd: string,
  args: readonly string[],
  ready: RegExp | (() => boolean | Promise<boolean>),
  logFile?: string,
  options: { readonly env?: NodeJS.ProcessEnv; readonly cwd?: string } = {},
): Promise<ServerProcess> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(killer);
  };
  try {
    await waitFor(`${cmd} to start`, async () => {
      if (child.exitCode !== null)
        assert.fail(`${cmd} exited with ${child.exitCode}: ${out}${logFile && existsSync(logFile) ? await readFile(logFile, 'utf8') : ''}`);
      if (typeof ready === 'function') return ready();
      const log = logFile && existsSync(logFile) ? await readFile(logFile, 'utf8') : '';
      return ready.test(out) || ready.test(log);
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { child, output: () => out, stop };
}
