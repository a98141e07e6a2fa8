// bench/many-fast: the library with N certificates against a pre-signed responder in another
// process (so that Stapler, not the CA, is the bottleneck), for this checkout and, with --root,
// another one (e.g. /work/main) in the same run, one after the other:
//   - add() of all certificates, one after the other (awaited), or --batch N at a time (as the
//     daemon's scan does: 64), per certificate; and the event loop's busy time per add() in that
//     phase (what add() costs the process's one thread, with the fetches it started);
//   - time until ready() (certificates/s), event-loop delay p99 / max throughout;
//   - heap + external and RSS per certificate after GC, staples counted separately.
// Memory store (the directory store's disk costs are bench:scale's).
//
//   npm run bench:many-fast -- --count 10000 --root /work/main [--batch 64]

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { silentLogger } from '../src/engine/logger.ts';
import type { Stapler as StaplerClass } from '../src/node/stapler.ts';
import { makeMassPki, pemOf } from './support/mass-pki.ts';
import { startPresignedResponder, writeResponses } from './support/presigned-responder.ts';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const COUNT = Number(arg('--count') ?? 10_000);
const BATCH = Number(arg('--batch') ?? 1);
const HERE = resolve(new URL('..', import.meta.url).pathname);
const roots = [HERE, ...(arg('--root') ? [resolve(arg('--root')!)] : [])];
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc (npm run bench:many-fast does)');

const dir = await mkdtemp(join(tmpdir(), 'stapler-many-fast-'));
const port = 20_000 + Math.floor(Math.random() * 20_000);
const pki = await makeMassPki(`http://127.0.0.1:${port}/`);
const thisUpdate = new Date(Date.now() - 3_600_000);
const nextUpdate = new Date(Date.now() + 7 * 86_400_000);
const chains: Buffer[] = [];
const responses: Buffer[] = [];
for (let i = 0; i < COUNT; i++) {
  chains.push(Buffer.from(pemOf(pki.leafDer(i)) + pki.intermediate.pem));
  responses.push(pki.responseDer(i, thisUpdate, nextUpdate));
}
await writeResponses(join(dir, 'responses.bin'), responses);
responses.length = 0;
const ca = await startPresignedResponder(join(dir, 'responses.bin'), port);

const memory = (): { heap: number; rss: number } => {
  gc();
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed + m.external, rss: m.rss };
};

const rows: string[][] = [];
for (const root of roots) {
  const { Stapler } = (await import(join(root, 'src/node/stapler.ts'))) as { Stapler: typeof StaplerClass };
  const before = memory();
  const ours = root === HERE;
  const stapler = new Stapler({ store: 'memory', logger: silentLogger, ...(ours ? { responderRatePerSecond: 0 } : {}), concurrency: 32 });
  const eld = monitorEventLoopDelay({ resolution: 5 });
  eld.enable();
  const start = performance.now();
  const elu = performance.eventLoopUtilization();
  const cpu = process.cpuUsage();
  for (let i = 0; i < chains.length; i += BATCH) await Promise.all(chains.slice(i, i + BATCH).map((c) => stapler.add(c)));
  const added = performance.now() - start;
  const busy = performance.eventLoopUtilization(elu).active;
  const report = await stapler.ready({ timeout: 3_600_000 });
  const readyMs = performance.now() - start;
  // Until ready(): the main thread's busy time, and the whole process's CPU (the thread pool's included).
  const busyUntilReady = performance.eventLoopUtilization(elu).active;
  const cpuUsed = process.cpuUsage(cpu);
  eld.disable();
  const after = memory();
  let stapleBytes = 0;
  for (const s of stapler.status()) stapleBytes += stapler.stapleById(s.id)?.length ?? 0;
  const kib = (b: number): string => `${(b / COUNT / 1024).toFixed(2)} KiB`;
  rows.push([
    root === HERE ? `this checkout` : root,
    `${((added / COUNT) * 1000).toFixed(0)} µs`,
    `${((busy / COUNT) * 1000).toFixed(0)} µs`,
    `${(readyMs / 1000).toFixed(1)} s (${((COUNT / readyMs) * 1000).toFixed(0)}/s), ${report.stapled.length} stapled`,
    `${((busyUntilReady / COUNT) * 1000).toFixed(0)} µs / ${((cpuUsed.user + cpuUsed.system) / COUNT).toFixed(0)} µs`,
    `${(eld.percentile(99) / 1e6).toFixed(1)} / ${(eld.max / 1e6).toFixed(1)} ms`,
    `${kib(after.heap - before.heap - stapleBytes)} + staples ${kib(stapleBytes)}`,
    kib(after.rss - before.rss),
  ]);
  await stapler.close();
}
await ca.stop();
await rm(dir, { recursive: true, force: true });

console.log(`bench/many-fast: ${COUNT} certificates, ${BATCH} add() at a time, memory store, concurrency 32, pre-signed responder, Node ${process.version}\n`);
console.log(
  '| checkout | add() per certificate | event loop busy per add() | until ready() | until ready(), per certificate: event loop busy / process CPU | event loop p99 / max | heap + external per certificate | RSS per certificate |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
