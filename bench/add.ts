// bench/add: what add() itself costs, and what each registered certificate holds, with nothing
// else running: the engine with a memory store and a fetcher that never answers (each fetch waits
// until close), so no response is verified or stored between two adds. For this checkout and,
// with --root, another one (e.g. a copy of the code before a change), one after the other, in one
// process:
//   - add() one after the other (awaited): wall time and event-loop busy time per certificate;
//   - add() --batch N at a time (default 64, as the daemon's scan): the same two figures;
//   - heap + external and RSS per certificate after GC, with every certificate registered (no
//     staples: the staples' own bytes are bench:many-fast's).
//
//   node --expose-gc --import tsx bench/add.ts --count 100000 --root /tmp/before

import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { StaplingEngine as EngineClass } from '../src/engine/engine.ts';
import { silentLogger } from '../src/engine/logger.ts';
import type { FetchOutcome, FetchRequest } from '../src/fetch/staple-fetcher.ts';
import type { MemoryStore as MemoryStoreClass } from '../src/store/memory-store.ts';
import { makeMassPki, pemOf } from './support/mass-pki.ts';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const COUNT = Number(arg('--count') ?? 10_000);
const BATCH = Number(arg('--batch') ?? 64);
const HERE = resolve(new URL('..', import.meta.url).pathname);
const roots = [HERE, ...(arg('--root') ? [resolve(arg('--root')!)] : [])];
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc (npm run bench:add does)');

const pki = await makeMassPki('http://127.0.0.1:9/');
const chains: Buffer[] = [];
for (let i = 0; i < COUNT; i++) chains.push(Buffer.from(pemOf(pki.leafDer(i)) + pki.intermediate.pem));

/** Fetches that never answer until the engine aborts them (at close): the engine's own work is all that runs. */
const hangingFetcher = {
  fetch: (r: FetchRequest): Promise<FetchOutcome> =>
    new Promise<FetchOutcome>((done) =>
      r.signal.addEventListener('abort', () => done({ ok: false, reason: 'fetch-timeout', message: 'aborted' }), { once: true }),
    ),
  close: async (): Promise<void> => {},
};

const memory = (): { heap: number; rss: number } => {
  gc();
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed + m.external, rss: m.rss };
};

const rows: string[][] = [];
for (const root of roots) {
  const { StaplingEngine } = (await import(join(root, 'src/engine/engine.ts'))) as { StaplingEngine: typeof EngineClass };
  const { MemoryStore } = (await import(join(root, 'src/store/memory-store.ts'))) as { MemoryStore: typeof MemoryStoreClass };
  const make = (): EngineClass => new StaplingEngine({ logger: silentLogger, store: new MemoryStore(), fetcher: hangingFetcher, responderRatePerSecond: 0 });
  const us = (ms: number): string => `${((ms / COUNT) * 1000).toFixed(0)} µs`;
  const kib = (b: number): string => `${(b / COUNT / 1024).toFixed(2)} KiB`;

  const before = memory();
  const one = make();
  let elu = performance.eventLoopUtilization();
  let start = performance.now();
  for (const chain of chains) await one.add(chain);
  const sequential = performance.now() - start;
  const sequentialBusy = performance.eventLoopUtilization(elu).active;
  const after = memory();
  await one.close();

  const many = make();
  elu = performance.eventLoopUtilization();
  start = performance.now();
  for (let i = 0; i < chains.length; i += BATCH) await Promise.all(chains.slice(i, i + BATCH).map((c) => many.add(c)));
  const batched = performance.now() - start;
  const batchedBusy = performance.eventLoopUtilization(elu).active;
  await many.close();

  rows.push([
    root === HERE ? 'this checkout' : root,
    `${us(sequential)} (busy ${us(sequentialBusy)})`,
    `${us(batched)} (busy ${us(batchedBusy)})`,
    kib(after.heap - before.heap),
    kib(after.rss - before.rss),
  ]);
}

console.log(`bench/add: ${COUNT} certificates (ECDSA P-256 leaves, one intermediate), memory store, fetches held, Node ${process.version}\n`);
console.log(`| checkout | add() one at a time, per certificate | ${BATCH} at a time | heap + external per certificate | RSS per certificate |`);
console.log('|---|---:|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
