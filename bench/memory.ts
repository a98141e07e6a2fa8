// bench/memory: what each certificate costs in memory once stapled, at N certificates (10,000 and
// 100,000 are the scales). The engine with a memory store and a fetcher that answers at
// once, in process, with pre-signed responses (so nothing but the engine's state is measured);
// after ready(), heap + external and RSS after GC, minus what they were before the first add(),
// per certificate, the staples' own bytes counted apart. Each checkout (this one and, with
// --root, another: e.g. a copy of the code before a change) runs in a process of its own.
//
//   node --expose-gc --import tsx bench/memory.ts --count 100000 --root /tmp/before

import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
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
const HERE = resolve(new URL('..', import.meta.url).pathname);
const child = arg('--child');

if (!child) {
  const roots = [HERE, ...(arg('--root') ? [resolve(arg('--root')!)] : [])];
  console.log(`bench/memory: ${COUNT} certificates stapled, memory store, in-process fetcher, Node ${process.version}\n`);
  console.log('| checkout | heap + external per certificate | of which staples (once) | RSS per certificate | until ready() |');
  console.log('|---|---:|---:|---:|---:|');
  for (const root of roots) {
    const self = new URL(import.meta.url).pathname;
    const row = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', self, '--child', root, '--count', String(COUNT)], { encoding: 'utf8' });
    console.log(`| ${root === HERE ? 'this checkout' : root} | ${row.trim()} |`);
  }
} else {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  const pki = await makeMassPki('http://127.0.0.1:9/');
  const thisUpdate = new Date(Date.now() - 3_600_000);
  const nextUpdate = new Date(Date.now() + 7 * 86_400_000);
  const chains: Buffer[] = [];
  const responses = new Map<string, Buffer>();
  for (let i = 0; i < COUNT; i++) {
    chains.push(Buffer.from(pemOf(pki.leafDer(i)) + pki.intermediate.pem));
    responses.set(pki.serialHex(i), pki.responseDer(i, thisUpdate, nextUpdate));
  }
  const fetcher = {
    fetch: (r: FetchRequest): Promise<FetchOutcome> => {
      const der = responses.get(r.certificate.serialHex.toLowerCase());
      return Promise.resolve(der ? { ok: true, der, url: r.urls[0]!, maxAgeSeconds: null } : { ok: false, reason: 'internal', message: 'no response' });
    },
    close: async (): Promise<void> => {},
  };
  const { StaplingEngine } = (await import(join(child, 'src/engine/engine.ts'))) as { StaplingEngine: typeof EngineClass };
  const { MemoryStore } = (await import(join(child, 'src/store/memory-store.ts'))) as { MemoryStore: typeof MemoryStoreClass };
  const memory = (): { heap: number; rss: number } => {
    gc();
    gc();
    const m = process.memoryUsage();
    return { heap: m.heapUsed + m.external, rss: m.rss };
  };
  const before = memory();
  const start = performance.now();
  const engine = new StaplingEngine({ logger: silentLogger, store: new MemoryStore(), fetcher, responderRatePerSecond: 0, concurrency: 64 });
  for (let i = 0; i < chains.length; i += 64) await Promise.all(chains.slice(i, i + 64).map((c) => engine.add(c)));
  const stapled = (await engine.ready({ timeout: 3_600_000 })).stapled.length;
  const readyMs = performance.now() - start;
  const after = memory();
  let stapleBytes = 0;
  for (const s of engine.statuses()) stapleBytes += engine.stapleById(s.id)?.length ?? 0;
  const kib = (b: number): string => `${(b / COUNT / 1024).toFixed(2)} KiB`;
  if (stapled !== COUNT) throw new Error(`only ${stapled} of ${COUNT} stapled`);
  console.log([kib(after.heap - before.heap), kib(stapleBytes), kib(after.rss - before.rss), `${(readyMs / 1000).toFixed(1)} s`].join(' | '));
  if (process.env.HEAP_SNAPSHOT) (await import('node:v8')).writeHeapSnapshot(process.env.HEAP_SNAPSHOT);
  await engine.close();
}
