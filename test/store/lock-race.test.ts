// The stale-lock takeover race, with real processes: several racers face one expired (or old
// and corrupt) lock at the same instant, many times over, and exactly one must win each time.

import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

const RACERS = 4;
const TRIALS = 40;
const KEY = 'c'.repeat(64);
const racerScript = new URL('./support/lock-racer.ts', import.meta.url).pathname;

type Reply = { ready: true } | { won: boolean } | { error: string };

let dir: string;
let racers: ChildProcess[] = [];

function next(child: ChildProcess): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('a racer did not answer within 20 s')), 20_000);
    child.once('message', (m: Reply) => {
      clearTimeout(timer);
      resolve(m);
    });
  });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stapler-race-'));
  racers = Array.from({ length: RACERS }, () => fork(racerScript, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  await Promise.all(racers.map(next));
});
after(async () => {
  for (const r of racers) r.disconnect();
  await rm(dir, { recursive: true, force: true });
});

async function race(trialDir: string): Promise<number> {
  const startAt = Date.now() + 40;
  const replies = racers.map(next);
  for (const r of racers) r.send({ dir: trialDir, key: KEY, startAt });
  const results = await Promise.all(replies);
  for (const r of results) if ('error' in r) assert.fail(`a racer failed: ${r.error}`);
  return results.filter((r) => 'won' in r && r.won).length;
}

describe('DirectoryStore lease takeover across processes', () => {
  it(`gives an expired lock to exactly one of ${RACERS} processes, in each of ${TRIALS} trials`, async () => {
    const winners: number[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      const trialDir = join(dir, `expired-${trial}`);
      await mkdir(trialDir);
      const stale = { token: randomBytes(12).toString('hex'), pid: 1, host: 'gone', expiresAt: Date.now() - 1_000, ttlMs: 30_000 };
      await writeFile(join(trialDir, `${KEY}.lock`), JSON.stringify(stale));
      winners.push(await race(trialDir));
      const lock = JSON.parse(await readFile(join(trialDir, `${KEY}.lock`), 'utf8')) as { token: string; expiresAt: number };
      assert.notEqual(lock.token, stale.token, 'the lock was taken over');
      assert.ok(lock.expiresAt > Date.now(), 'the new lock is live');
    }
    assert.deepEqual(winners, Array<number>(TRIALS).fill(1), 'exactly one winner per trial');
  });
  it(`gives an old empty lock (left by a full disk) to exactly one process, in each of ${TRIALS / 2} trials`, async () => {
    const winners: number[] = [];
    for (let trial = 0; trial < TRIALS / 2; trial++) {
      const trialDir = join(dir, `empty-${trial}`);
      await mkdir(trialDir);
      const lockPath = join(trialDir, `${KEY}.lock`);
      await writeFile(lockPath, '');
      const old = new Date(Date.now() - 3_600_000);
      await utimes(lockPath, old, old);
      winners.push(await race(trialDir));
      const names = await readdir(trialDir);
      assert.ok(!names.some((n) => n.endsWith('.tmp')), 'no temp file left behind');
    }
    assert.deepEqual(winners, Array<number>(TRIALS / 2).fill(1), 'exactly one winner per trial');
  });
});
