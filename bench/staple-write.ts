// bench/staple-write: what one staple file costs the daemon to write, the way it writes it
// (writeFileAtomic: temp file, fsync, rename, fsync the directory, that fsync shared by the
// writes meanwhile), 64 at a time as its scan goes, beside the same with one directory fsync per
// file (before directory-sync.ts), without the directory fsync and without any fsync. A warm start of N
// certificates without their staple files writes N of them: this is its floor on this disk.
//
//   npm run bench:staple-write -- --count 2000

import { mkdir, mkdtemp, open, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../src/io/files.ts';

const i = process.argv.indexOf('--count');
const COUNT = i > 0 ? Number(process.argv[i + 1]) : 2_000;
const AT_ONCE = 64;
const dir = await mkdtemp(join(tmpdir(), 'stapler-staple-write-'));
const data = Buffer.alloc(600, 0x30); // a typical staple's size

/** Temp file, fsync, rename: the atomic write without its folder's fsync. */
async function fsyncAndRename(path: string): Promise<void> {
  const handle = await open(`${path}.tmp`, 'wx', 0o644);
  await handle.writeFile(data);
  await handle.sync();
  await handle.close();
  await rename(`${path}.tmp`, path);
}

const variants: Record<string, (path: string) => Promise<void>> = {
  'writeFileAtomic, fsync the file and the directory (shared): what the daemon does': (path) => writeFileAtomic(path, data, { mode: 0o644 }),
  'temp file, fsync, rename, a directory fsync of its own (before the shared one)': async (path) => {
    await fsyncAndRename(path);
    const folder = await open(dirname(path), 'r');
    await folder.sync().finally(() => folder.close());
  },
  'temp file, fsync, rename (no directory fsync)': fsyncAndRename,
  'temp file, rename, no fsync (the floor)': async (path) => {
    await writeFile(`${path}.tmp`, data);
    await rename(`${path}.tmp`, path);
  },
};

console.log(`bench/staple-write: ${COUNT} files of ${data.length} bytes per way, ${AT_ONCE} at a time, in ${tmpdir()}, Node ${process.version}\n`);
console.log('| way | per file (wall) |');
console.log('|---|---:|');
let n = 0;
for (const [name, write] of Object.entries(variants)) {
  const sub = join(dir, String(n++));
  await mkdir(sub);
  const start = performance.now();
  for (let k = 0; k < COUNT; k += AT_ONCE) {
    await Promise.all(Array.from({ length: Math.min(AT_ONCE, COUNT - k) }, (_, j) => write(join(sub, `${k + j}.pem.ocsp`))));
  }
  console.log(`| ${name} | ${(((performance.now() - start) / COUNT) * 1000).toFixed(0)} µs |`);
}
await rm(dir, { recursive: true, force: true });
