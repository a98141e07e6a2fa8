// The daemon's state file at 10,000 and 100,000 certificates (issue 17): what one write costs,
// before (every file's state, pretty-printed, rebuilt and written whole at each change) and
// after (a bounded summary at each change, every file's state at most every minute in a detail
// file, built in slices), side by side in one process, on synthetic file states.
//
//   npm run bench:state-file                     (10,000 and 100,000)
//   npm run bench:state-file -- --counts 2000,20000

import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { StateFile } from '../src/daemon/state-file.ts';
import type { DaemonState, FileState } from '../src/daemon/state.ts';
import { writeFileAtomic } from '../src/io/files.ts';
import { FakeClock } from '../test/support/fake-clock.ts';
import { syntheticCounters, syntheticFile } from '../test/support/file-states.ts';
import { captureLogger } from '../test/support/log-capture.ts';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const COUNTS = (arg('--counts') ?? '10000,100000').split(',').map(Number);
const ROUNDS = Number(arg('--rounds') ?? 3);

const dir = await mkdtemp(join(tmpdir(), 'stapler-state-bench-'));
const clock = new FakeClock(Date.now());
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Wall time of `fn`, and the longest event-loop block meanwhile (ms). */
async function timed(fn: () => Promise<void>): Promise<{ ms: number; blockMs: number }> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  // The block of a synchronous stretch shows as the delay of the next timer: a 1 ms ticker sees it.
  let longest = 0;
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 1);
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 5));
  clearInterval(ticker);
  h.disable();
  return { ms, blockMs: Math.max(longest, h.max / 1e6) };
}

console.log(`bench/state-file: Node ${process.version}, ${ROUNDS} rounds each, median; 1 file in 1,000 with a problem`);
console.log('');
console.log('| certificates | write | bytes | bytes per certificate | per write (ms) | longest event-loop block (ms) |');
console.log('|---:|---|---:|---:|---:|---:|');
for (const n of COUNTS) {
  const files = (): Generator<FileState> =>
    (function* () {
      for (let i = 0; i < n; i++) yield syntheticFile(i, clock.now(), i % 1000 === 7);
    })();
  const counters = () => syntheticCounters(clock.now(), n);
  const rows: [string, string, () => Promise<void>][] = [];
  // Before: the daemon's state() (every file's state) stringified whole, at each change.
  const before = join(dir, `before-${n}.json`);
  rows.push([
    'before: every file, at each change',
    before,
    async () => {
      const state: DaemonState = { ...counters(), files: [...files()] };
      await writeFileAtomic(before, Buffer.from(`${JSON.stringify(state, null, 2)}\n`), { mode: 0o644 });
    },
  ]);
  // After: the summary alone (what a change costs), and the detail (at most once a minute).
  const path = join(dir, `after-${n}.json`);
  const sf = new StateFile(path, { counters, files }, clock, captureLogger().logger, { debounceMs: 0, summaryIntervalMs: 0 });
  await sf.save();
  rows.push([
    'after: the summary, at each change (at most every 2 s)',
    path,
    async () => {
      sf.schedule();
      await clock.advance(0);
      await sf.idle();
    },
  ]);
  rows.push(['after: summary + every file in the detail file (at most every 60 s)', sf.detailPath, () => sf.save()]);
  for (const [label, file, fn] of rows) {
    const runs: { ms: number; blockMs: number }[] = [];
    for (let r = 0; r < ROUNDS; r++) runs.push(await timed(fn));
    const bytes = (await stat(file)).size;
    const ms = median(runs.map((x) => x.ms));
    const block = median(runs.map((x) => x.blockMs));
    console.log(`| ${n.toLocaleString('en')} | ${label} | ${bytes.toLocaleString('en')} | ${Math.round(bytes / n)} | ${ms.toFixed(1)} | ${block.toFixed(1)} |`);
  }
  sf.stop();
}
await rm(dir, { recursive: true, force: true });
