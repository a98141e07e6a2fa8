// `stapler daemon` as its own process (this checkout's CLI), the way an operator runs it beside a
// real server: a configuration file with the test's short timings, and its stop registered in the
// test's after hook as soon as it is spawned (before anything that can fail). Also the CA's outage
// and lies that a server fed by the daemon must ride out with its good staple.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestResponder } from './responder.ts';
import { waitFor } from './wait.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

/** The test's short timings, after the docs' daemon configuration (its state file in `dir`). */
function testTimings(dir: string): string {
  return `stateFile: ${dir}/state.json
rescanMs: 500
logFormat: json
timeoutMs: 1000
deadlineMs: 2000
refresh: { minIntervalMs: 1000, floorMs: 500, backoffInitialMs: 500, backoffMaxMs: 2000 }
`;
}

/**
 * Write `dir`/stapler.yaml (`config`, then the test's timings) and start `stapler daemon` on it.
 * Stopped (SIGTERM, then waited for) in `t.after`, registered before this returns.
 */
export async function startDaemonProcess(t: { after(fn: () => Promise<void>): void }, dir: string, config: string): Promise<ChildProcess> {
  const file = join(dir, 'stapler.yaml');
  await writeFile(file, `${config}${testTimings(dir)}`);
  const daemon = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'daemon', '--config', file], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise((resolve) => daemon.once('exit', resolve));
  t.after(async () => {
    if (daemon.exitCode !== null || daemon.signalCode !== null) return;
    daemon.kill('SIGTERM');
    await exited;
  });
  return daemon;
}

/** The CA's outage and lies: every one of these answers is refused by the daemon. */
export const BAD_ANSWERS = ['http-500', 'wrong-serial', 'bad-signature', 'unknown'] as const;

/**
 * Each bad answer in turn: the daemon asks the CA (SIGUSR1), refuses the answer, keeps its good
 * staple, and the server goes on stapling it (`staple` judges one handshake's staple, null: none).
 */
export async function ridesOutBadAnswers(
  server: string,
  responder: TestResponder,
  daemon: ChildProcess,
  staple: () => Promise<{ readonly ok: boolean } | null>,
): Promise<void> {
  for (const behaviour of BAD_ANSWERS) {
    responder.behaviour = behaviour;
    const asked = responder.requestCount;
    daemon.kill('SIGUSR1');
    await waitFor(`the daemon to ask the CA (${behaviour})`, () => responder.requestCount > asked);
    const now = await staple();
    assert.ok(now?.ok, `after "${behaviour}", ${server} stapled ${JSON.stringify(now)}`);
  }
}
