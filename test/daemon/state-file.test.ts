// The state file at many certificates (issue 17): a summary that stays small whatever the number
// of certificates, every file's state in the detail file, writes bounded in frequency on the
// fake clock, and a failed write reported once and retried until it works.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { statusCommand } from '../../src/cli/commands/status.ts';
import { StateFile, type StateFileOptions } from '../../src/daemon/state-file.ts';
import type { FileState } from '../../src/daemon/state.ts';
import { MAX_PROBLEMS, type StateSummary } from '../../src/daemon/state-summary.ts';
import { writeFileAtomic } from '../../src/io/files.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { syntheticCounters, syntheticFile } from '../support/file-states.ts';
import { captureLogger } from '../support/log-capture.ts';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'stapler-state-file-'));
  dirs.push(d);
  return d;
}

/** A state of `n` files, those in `problems` with a failing refresh. */
function sourceOf(clock: FakeClock, n: number, problems: (i: number) => boolean = () => false) {
  return {
    counters: () => syntheticCounters(clock.now(), n),
    *files(): Generator<FileState> {
      for (let i = 0; i < n; i++) yield syntheticFile(i, clock.now(), problems(i));
    },
  };
}

/** Each write, counted by file name, through the real atomic write. */
function countingWrite(): { writes: Map<string, number>; write: NonNullable<StateFileOptions['write']> } {
  const writes = new Map<string, number>();
  return {
    writes,
    write: (path, data) => {
      const name = path.split('/').pop()!;
      writes.set(name, (writes.get(name) ?? 0) + 1);
      return writeFileAtomic(path, data, { mode: 0o644 });
    },
  };
}

async function run(args: { state: string; all?: boolean; json?: boolean }): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await statusCommand(args, { out: (t) => (out += t), log: (t) => (out += t) });
  return { code, out };
}

describe('the state file at many certificates', () => {
  it('stays small whatever the number of certificates: counts, the problems (capped), the soonest to lapse', async () => {
    const dir = await tempDir();
    const clock = new FakeClock();
    const sizes: number[] = [];
    for (const n of [2_000, 20_000]) {
      const path = join(dir, `state-${n}.json`);
      // The same five problems at either size.
      const sf = new StateFile(
        path,
        sourceOf(clock, n, (i) => i % 400 === 7 && i < 2_000),
        clock,
        captureLogger().logger,
      );
      await sf.save();
      sizes.push((await stat(path)).size);
      const s = JSON.parse(await readFile(path, 'utf8')) as StateSummary;
      assert.equal(s.format, 2);
      assert.deepEqual(s.states, { stapled: n - 5, 'stapled-refresh-failing': 5 });
      assert.deepEqual(s.verdicts, { CRITICAL: 0, WARNING: 5, OK: n - 5 });
      assert.equal(s.problems.length, 5);
      assert.deepEqual(
        s.soonest.map((f) => f.file),
        Array.from({ length: 10 }, (_, i) => syntheticFile(i, 0).file),
      );
      // Every file is in the detail file.
      const detail = (await readFile(join(dir, `state-${n}.files.jsonl`), 'utf8')).trim().split('\n');
      assert.equal(detail.length, n + 1);
    }
    assert.ok(sizes[1]! - sizes[0]! < 100, `the summary grew from ${sizes[0]} to ${sizes[1]} bytes with 10× the certificates`);
    assert.ok(sizes[1]! < 20_000, `${sizes[1]} bytes`);
    // Problems beyond the cap are counted, not listed.
    const path = join(dir, 'many-problems.json');
    await new StateFile(
      path,
      sourceOf(clock, 3_000, () => true),
      clock,
      captureLogger().logger,
    ).save();
    const s = JSON.parse(await readFile(path, 'utf8')) as StateSummary;
    assert.equal(s.problems.length, MAX_PROBLEMS);
    assert.equal(s.problemsOmitted, 3_000 - MAX_PROBLEMS);
    assert.deepEqual(s.reasons, ['3000 refresh failing']);
  });

  it('gives `stapler status` the summary and the problems, and every certificate with --all and --json', async () => {
    const dir = await tempDir();
    const clock = new FakeClock(Date.now());
    const path = join(dir, 'state.json');
    const sf = new StateFile(
      path,
      sourceOf(clock, 300, (i) => i === 42),
      clock,
      captureLogger().logger,
    );
    await sf.save();
    const plain = await run({ state: path });
    assert.equal(plain.code, 1, plain.out);
    assert.match(plain.out, /^WARNING: 1 refresh failing\n/);
    assert.match(plain.out, /\nverdicts: 0 CRITICAL, 1 WARNING, 299 OK\nstates: 299 stapled, 1 stapled-refresh-failing\n/);
    assert.match(plain.out, /\nsoonest to lapse: .*site-000000\.example\.com\.pem at /);
    assert.match(plain.out, /with a problem: 1 \(--all lists every certificate\)\n/);
    assert.match(plain.out, /000042\.example\.com\.pem +refresh failing/);
    assert.doesNotMatch(plain.out, /site-000043/);
    const all = await run({ state: path, all: true });
    assert.equal(all.code, 1);
    for (const i of [0, 42, 299]) assert.match(all.out, new RegExp(`-${String(i).padStart(6, '0')}\\.example\\.com\\.pem +(stapled|refresh failing)`));
    const json = JSON.parse((await run({ state: path, json: true })).out) as { files: FileState[]; verdict: string; states: Record<string, number> };
    assert.equal(json.files.length, 300);
    assert.equal(json.verdict, 'WARNING');
    // A detail file that is missing, or from another run of the daemon: said, and the summary still answers.
    await rm(join(dir, 'state.files.jsonl'));
    const missing = await run({ state: path, all: true });
    assert.equal(missing.code, 1);
    assert.match(missing.out, /every certificate: .*state\.files\.jsonl: does not exist/);
    assert.match(missing.out, /000042\.example\.com\.pem +refresh failing/);
    const other = syntheticCounters(clock.now() - 1_000, 300, process.pid + 1);
    await writeFile(join(dir, 'state.files.jsonl'), `${JSON.stringify(other)}\n${JSON.stringify(syntheticFile(0, clock.now()))}\n`);
    assert.match((await run({ state: path, all: true })).out, /state\.files\.jsonl: is from another run of the daemon/);
  });

  it('is written at most every summaryIntervalMs, and the detail at most every detailIntervalMs, however often things change', async () => {
    const dir = await tempDir();
    const clock = new FakeClock();
    const { writes, write } = countingWrite();
    const sf = new StateFile(join(dir, 'state.json'), sourceOf(clock, 50), clock, captureLogger().logger, { write });
    // A change every 10 ms for two minutes (a cold start: 12,000 changes).
    for (let t = 0; t < 120_000; t += 10) {
      sf.schedule();
      await clock.advance(10);
      await sf.idle();
    }
    const summaries = writes.get('state.json') ?? 0;
    const details = writes.get('state.files.jsonl') ?? 0;
    assert.ok(summaries >= 50 && summaries <= 61, `${summaries} summaries in 120 s (at most one per 2 s)`);
    assert.ok(details >= 2 && details <= 3, `${details} detail files in 120 s (at most one per minute)`);
    // Once the changes stop, what changed last is written, and then nothing more.
    await clock.advance(120_000);
    await sf.idle();
    const [s, d] = [writes.get('state.json'), writes.get('state.files.jsonl')];
    await clock.advance(600_000);
    await sf.idle();
    assert.deepEqual([writes.get('state.json'), writes.get('state.files.jsonl')], [s, d]);
    sf.stop();
  });

  it('reports a failed write once, retries it without a new change, and says when it works again', async () => {
    const dir = await tempDir();
    const clock = new FakeClock();
    const { logger, lines } = captureLogger();
    // Its folder is a file: every write fails (ENOTDIR) until the folder is made.
    await writeFile(join(dir, 'state'), 'not a folder');
    const path = join(dir, 'state', 'state.json');
    const sf = new StateFile(path, sourceOf(clock, 10), clock, logger);
    sf.schedule();
    for (let i = 0; i < 300; i++) {
      await clock.advance(1_000);
      await sf.idle();
    }
    const warnings = lines.filter((l) => l.level === 'warn');
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    assert.match(warnings[0]!.message, /cannot write the state file/);
    await rm(join(dir, 'state'));
    await mkdir(join(dir, 'state'));
    // Retried with a doubling delay (at most 5 minutes), with no new change.
    for (let i = 0; i < 400; i++) {
      await clock.advance(1_000);
      await sf.idle();
    }
    const s = JSON.parse(await readFile(path, 'utf8')) as StateSummary;
    assert.equal(s.certificates, 10);
    assert.equal(lines.filter((l) => l.level === 'warn').length, 1);
    assert.equal(lines.filter((l) => /written again/.test(l.message)).length, 1);
    sf.stop();
  });
});
