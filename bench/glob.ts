// bench/glob: expanding a certificate glob over N files in one folder (default 100,000), as every
// rescan and every start does first, this checkout against another one (--root), interleaved,
// three times each.
//   npm run bench:glob
//   npm run bench:glob -- --count 100000 --root /path/to/other/checkout

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const COUNT = Number(arg('--count') ?? 100_000);
const OURS = resolve(new URL('..', import.meta.url).pathname);
const roots = [OURS, ...(arg('--root') ? [resolve(arg('--root')!)] : [])];

const dir = await mkdtemp(join(tmpdir(), 'stapler-bench-glob-'));
const certs = join(dir, 'certs');
await mkdir(certs);
for (let start = 0; start < COUNT; start += 1000) {
  const writes: Promise<void>[] = [];
  for (let i = start; i < Math.min(COUNT, start + 1000); i++) writes.push(writeFile(join(certs, `site-${i}.pem`), ''));
  await Promise.all(writes);
}

type Expand = (pattern: string) => Promise<string[]>;
const expanders = await Promise.all(roots.map(async (r) => ((await import(join(r, 'src/daemon/glob.ts'))) as { expandGlob: Expand }).expandGlob));
const times: number[][] = roots.map(() => []);
for (let run = 0; run < 3; run++)
  for (const [i, expand] of expanders.entries()) {
    const started = performance.now();
    const found = (await expand(join(certs, '*.pem'))).length;
    times[i]!.push(performance.now() - started);
    if (found !== COUNT) throw new Error(`${roots[i]}: ${found} files matched, not ${COUNT}`);
  }

console.log(`bench/glob: ${COUNT} files in one folder, Node ${process.version}\n`);
console.log('| checkout | runs (ms) | median |');
console.log('|---|---:|---:|');
for (const [i, root] of roots.entries()) {
  const t = times[i]!;
  console.log(`| ${root === OURS ? 'this one' : root} | ${t.map((x) => x.toFixed(0)).join(', ')} | ${[...t].sort((a, b) => a - b)[1]!.toFixed(0)} ms |`);
}
await rm(dir, { recursive: true, force: true });
