// bench/store: what the directory store's safety costs, against the code it replaced.
//   1. Lease acquire + release, uncontended: a lock hard-linked into place from a complete temp
//      file (now) against open('wx') + write (before, which could leave an empty lock).
//   2. Taking over an expired lock: takeover marker + rename (now) against unlink + create (before).
//   3. Save: temp file with its mtime set to the expiry (now) against the plain atomic write.
//   4. Load: non-blocking open + fstat + bounded read (now) against stat + capped stream (before).
//   5. Prune of a directory of 10,000 staples, none due and all due.
// Cases run interleaved round by round in one process; ratios are now ÷ before, per round.
//
//   node --import tsx bench/store.ts            (~1 minute)
//   node --import tsx bench/store.ts --quick

import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, readFile, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileCapped, writeFileAtomic } from '../src/io/files.ts';
import { DirectoryStore } from '../src/store/directory-store.ts';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 2 : 7;
const ROUND_MS = quick ? 300 : 1_000;
const PRUNE_FILES = quick ? 1_000 : 10_000;
const KEY = 'a'.repeat(64);
const root = await mkdtemp(join(tmpdir(), 'stapler-bench-store-'));

/** The lock code this branch replaced (src/store/directory-store.ts before), for comparison. */
const before = {
  async acquire(dir: string): Promise<() => Promise<void>> {
    const path = join(dir, `${KEY}.lock`);
    const lock = { token: randomBytes(12).toString('hex'), pid: process.pid, host: hostname(), expiresAt: Date.now() + 30_000 };
    const handle = await open(path, 'wx', 0o600);
    try {
      await handle.writeFile(JSON.stringify(lock));
    } finally {
      await handle.close();
    }
    return async () => {
      const held = JSON.parse(await readFile(path, 'utf8')) as { token: string };
      if (held.token === lock.token) await unlink(path);
    };
  },
  async takeover(dir: string): Promise<void> {
    const path = join(dir, `${KEY}.lock`);
    const held = JSON.parse(await readFile(path, 'utf8')) as { expiresAt: number };
    if (held.expiresAt < Date.now()) await unlink(path);
    await before.acquire(dir);
  },
  async load(path: string): Promise<Buffer> {
    await stat(path);
    return readFileCapped(path, 1024 * 1024);
  },
};

async function expiredLock(dir: string): Promise<void> {
  await writeFile(
    join(dir, `${KEY}.lock`),
    JSON.stringify({ token: randomBytes(12).toString('hex'), pid: 1, host: 'gone', expiresAt: Date.now() - 1_000, ttlMs: 30_000 }),
  );
}

/** Runs `op` for ROUND_MS; returns operations per second. */
async function rate(op: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < ROUND_MS) {
    await op();
    n++;
  }
  return (n * 1000) / (performance.now() - start);
}

interface Pair {
  readonly name: string;
  readonly before: () => Promise<unknown>;
  readonly now: () => Promise<unknown>;
  readonly rates: { before: number[]; now: number[]; ratio: number[] };
}

const staple = randomBytes(1500);
const dirs = { before: join(root, 'before'), now: join(root, 'now') };
await mkdir(dirs.before);
await mkdir(dirs.now);
const store = new DirectoryStore(dirs.now);
await writeFileAtomic(join(dirs.before, `${KEY}.der`), staple);
await store.save(KEY, staple, Date.now() + 86_400_000);

const pairs: Pair[] = [
  {
    name: 'lease acquire + release',
    before: async () => (await before.acquire(dirs.before))(),
    now: async () => (await store.acquire(KEY, 30_000))!.release(),
    rates: { before: [], now: [], ratio: [] },
  },
  {
    name: 'takeover of an expired lock (+ release)',
    before: async () => {
      await expiredLock(dirs.before);
      await before.takeover(dirs.before);
      await unlink(join(dirs.before, `${KEY}.lock`));
    },
    now: async () => {
      await expiredLock(dirs.now);
      await (await store.acquire(KEY, 30_000))!.release();
    },
    rates: { before: [], now: [], ratio: [] },
  },
  {
    name: 'save (1.5 KB staple)',
    before: () => writeFileAtomic(join(dirs.before, `${KEY}.der`), staple, { mode: 0o600 }),
    now: () => store.save(KEY, staple, Date.now() + 86_400_000),
    rates: { before: [], now: [], ratio: [] },
  },
  {
    name: 'load (1.5 KB staple)',
    before: () => before.load(join(dirs.before, `${KEY}.der`)),
    now: () => store.load(KEY),
    rates: { before: [], now: [], ratio: [] },
  },
];

const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

console.log(`bench/store: Node ${process.version}, ${ROUNDS} interleaved rounds of ${ROUND_MS} ms per case, on ${tmpdir()}\n`);
for (let round = 0; round < ROUNDS; round++) {
  for (const p of pairs) {
    // Alternate which goes first, so that neither always runs on a warmer cache.
    const [first, second] = round % 2 === 0 ? (['before', 'now'] as const) : (['now', 'before'] as const);
    const r1 = await rate(p[first]);
    const r2 = await rate(p[second]);
    const b = first === 'before' ? r1 : r2;
    const n = first === 'before' ? r2 : r1;
    p.rates.before.push(b);
    p.rates.now.push(n);
    p.rates.ratio.push(n / b);
  }
  // Markers of takeovers pile up (the prune removes them); clear them so that rounds are alike.
  await rm(dirs.now, { recursive: true });
  await mkdir(dirs.now);
  await store.save(KEY, staple, Date.now() + 86_400_000);
}

console.log('| operation | before (/s, median) | now (/s, median) | ratio now ÷ before (median) | ratio range |');
console.log('|---|---:|---:|---:|---:|');
for (const p of pairs) {
  const r = p.rates.ratio;
  console.log(
    `| ${p.name} | ${fmt(median(p.rates.before))} | ${fmt(median(p.rates.now))} | ${fmt(median(r), 2)} | ${fmt(Math.min(...r), 2)}–${fmt(Math.max(...r), 2)} |`,
  );
}

// The prune: one lstat per entry when nothing is due; one rename, lstat and unlink more per removal.
const pruneDir = join(root, 'prune');
const pruneStore = new DirectoryStore(pruneDir);
await mkdir(pruneDir);
const expiry = new Date(Date.now() + 86_400_000);
for (let i = 0; i < PRUNE_FILES; i++) {
  const path = join(pruneDir, `${i.toString(16).padStart(64, '0')}.der`);
  await writeFile(path, staple);
  await utimes(path, expiry, expiry);
}
const none: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const t = performance.now();
  const removed = await pruneStore.prune(Date.now());
  none.push(performance.now() - t);
  if (removed !== 0) throw new Error(`pruned ${removed}, expected none`);
}
const t = performance.now();
const removed = await pruneStore.prune(Date.now() + 2 * 86_400_000);
const all = performance.now() - t;
if (removed !== PRUNE_FILES) throw new Error(`pruned ${removed}, expected ${PRUNE_FILES}`);
console.log(`\n| prune of ${fmt(PRUNE_FILES)} staples | total (ms) | per entry (µs) |`);
console.log('|---|---:|---:|');
console.log(`| none due (median of ${ROUNDS}) | ${fmt(median(none))} | ${fmt((median(none) * 1000) / PRUNE_FILES, 1)} |`);
console.log(`| all due (one run) | ${fmt(all)} | ${fmt((all * 1000) / PRUNE_FILES, 1)} |`);
await rm(root, { recursive: true, force: true });
