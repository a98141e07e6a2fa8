// A store that fails must fail fast and clearly, and never leave anything that stops a later
// fetch: a store path under a regular file, a full disk, a lock dated years ahead, a directory
// or a FIFO where a lock or a staple should be, an oversized staple.

import assert from 'node:assert/strict';
import { execFileSync, fork } from 'node:child_process';
import { constants } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DirectoryStore } from '../../src/store/directory-store.ts';

const KEY = 'e'.repeat(64);
const OTHER = 'f'.repeat(64);
const YEAR = 365 * 24 * 3_600_000;
let root: string;
const fifos: string[] = [];

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'stapler-failures-'));
});
after(async () => {
  // Should a regression leave a read blocked on a FIFO, open its other end so the process can exit.
  for (const fifo of fifos)
    await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK).then(
      (h) => h.close(),
      () => undefined,
    );
  await rm(root, { recursive: true, force: true });
});

/** Fails the test, instead of hanging it, if `promise` does not settle within 10 s. */
function settlesSoon<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle: it hangs`)), 10_000);
  });
  return Promise.race([promise, hang]).finally(() => clearTimeout(timer));
}

async function storeWith(name: string): Promise<{ store: DirectoryStore; path: string }> {
  const path = join(root, name);
  await mkdir(path);
  return { store: new DirectoryStore(path), path };
}

function mkfifo(path: string): void {
  execFileSync('mkfifo', [path]);
  fifos.push(path);
}

describe('DirectoryStore failures', () => {
  it('fails every method with an error naming the store when its directory cannot exist (under a regular file)', async () => {
    // Read-only without root: a path under a regular file fails with ENOTDIR for everyone.
    const file = join(root, 'a-file');
    await writeFile(file, 'not a directory');
    const store = new DirectoryStore(join(file, 'store'));
    const named = new RegExp(`^StoreError: directory ${file}/store: could not .*not a directory`);
    const failure = (err: unknown): boolean => named.test(String(err));
    await assert.rejects(settlesSoon(store.save(KEY, Buffer.from('x'), 0), 'save'), failure);
    await assert.rejects(settlesSoon(store.acquire(KEY, 30_000), 'acquire'), failure);
    await assert.rejects(settlesSoon(store.load(KEY), 'load'), failure);
    await assert.rejects(settlesSoon(store.delete(KEY), 'delete'), failure);
    await assert.rejects(settlesSoon(store.prune(Date.now()), 'prune'), failure);
  });
  it('on a full disk, fails save and acquire clearly and leaves no lock (not even an empty one) and no temp file', async () => {
    const { path } = await storeWith('full-disk');
    const child = fork(new URL('./support/full-disk.ts', import.meta.url).pathname, [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    try {
      const next = (): Promise<Record<string, string>> => new Promise((resolve) => child.once('message', resolve));
      await settlesSoon(next(), 'the child start');
      const replies = next();
      child.send({ dir: path });
      const { save, acquire } = await settlesSoon(replies, 'the child');
      assert.match(save!, /^error StoreError: directory .*full-disk: could not save staple .*file too large/);
      assert.match(acquire!, /^error StoreError: directory .*full-disk: could not .*file too large/);
      assert.deepEqual(await readdir(path), [], 'nothing left behind');
    } finally {
      child.disconnect();
    }
    // And the next process (with room to write) gets the lease at once.
    assert.ok(await new DirectoryStore(path).acquire(KEY, 30_000), 'lease acquired');
  });
  it('takes over a lock dated years ahead (a dead process with a wrong clock), as corrupt', async () => {
    const { store, path } = await storeWith('future-lock');
    await writeFile(
      join(path, `${KEY}.lock`),
      JSON.stringify({ token: 'ab'.repeat(12), pid: 1, host: 'gone', expiresAt: Date.now() + 5 * YEAR, ttlMs: 30_000 }),
    );
    assert.ok(await store.acquire(KEY, 30_000), 'lease acquired');
  });
  it('takes over a lock from an earlier version dated years ahead (no TTL recorded)', async () => {
    const { store, path } = await storeWith('future-legacy-lock');
    await writeFile(join(path, `${KEY}.lock`), JSON.stringify({ token: 'cd'.repeat(12), pid: 1, host: 'gone', expiresAt: Date.now() + 5 * YEAR }));
    assert.ok(await store.acquire(KEY, 30_000), 'lease acquired');
  });
  it("respects a lock within its holder's own (longer) TTL", async () => {
    const { store, path } = await storeWith('longer-ttl');
    await writeFile(
      join(path, `${KEY}.lock`),
      JSON.stringify({ token: 'ef'.repeat(12), pid: 1, host: 'other', expiresAt: Date.now() + 20 * 60_000, ttlMs: 30 * 60_000 }),
    );
    assert.equal(await store.acquire(KEY, 30_000), null);
  });
  it("does not believe a lock's own TTL beyond a day", async () => {
    const { store, path } = await storeWith('huge-own-ttl');
    await writeFile(
      join(path, `${KEY}.lock`),
      JSON.stringify({ token: '12'.repeat(12), pid: 1, host: 'gone', expiresAt: Date.now() + 2 * 24 * 3_600_000, ttlMs: YEAR }),
    );
    assert.ok(await store.acquire(KEY, 30_000), 'lease acquired');
  });
  it('judges an empty lock by its age: respected while young', async () => {
    const { store, path } = await storeWith('empty-lock');
    await writeFile(join(path, `${KEY}.lock`), '');
    assert.equal(await store.acquire(KEY, 60_000), null);
    assert.ok(await new DirectoryStore(path, { now: () => Date.now() + 120_000 }).acquire(KEY, 60_000), 'lease acquired');
  });
  it('reports a directory at a lock path, every time, instead of treating it as held', async () => {
    const { store, path } = await storeWith('lock-dir');
    await mkdir(join(path, `${KEY}.lock`));
    for (let i = 0; i < 2; i++) {
      await assert.rejects(
        settlesSoon(store.acquire(KEY, 30_000), 'acquire'),
        /^StoreError: directory .*lock-dir: lock .*\.lock is a directory, not a regular file; remove it$/,
      );
    }
    assert.ok(await store.acquire(OTHER, 30_000), 'other certificates are not affected');
  });
  it('refuses a FIFO at a lock path without waiting for a writer', async () => {
    const { store, path } = await storeWith('lock-fifo');
    mkfifo(join(path, `${KEY}.lock`));
    await assert.rejects(settlesSoon(store.acquire(KEY, 30_000), 'acquire'), /lock .*\.lock is a FIFO, not a regular file/);
  });
  it('refuses a FIFO at a staple path without waiting for a writer, and the prune leaves it alone', async () => {
    const { store, path } = await storeWith('staple-fifo');
    mkfifo(join(path, `${KEY}.der`));
    await assert.rejects(
      settlesSoon(store.load(KEY), 'load'),
      /^StoreError: directory .*staple-fifo: could not load staple .*\.der: .*\.der is a FIFO, not a regular file$/,
    );
    assert.equal(await settlesSoon(store.prune(Date.now() + YEAR), 'prune'), 0);
  });
  it('refuses a directory at a staple path', async () => {
    const { store, path } = await storeWith('staple-dir');
    await mkdir(join(path, `${KEY}.der`));
    await assert.rejects(store.load(KEY), /\.der is a directory, not a regular file/);
    await assert.rejects(store.save(KEY, Buffer.from('x'), 0), /could not save staple .*\.der/);
  });
  it('refuses a socket at a staple path', async () => {
    const { store, path } = await storeWith('s'); // a socket's path has at most 107 bytes
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(join(path, `${KEY}.der`), resolve));
    try {
      await assert.rejects(settlesSoon(store.load(KEY), 'load'), /\.der is a socket, not a regular file/);
    } finally {
      server.close();
    }
  });
  it('creates its directory again if it is removed while it runs', async () => {
    const { store, path } = await storeWith('removed');
    await store.save(KEY, Buffer.from('x'), 0);
    await rm(path, { recursive: true });
    await store.save(KEY, Buffer.from('y'), 0);
    assert.deepEqual(await store.load(KEY), Buffer.from('y'));
    await rm(path, { recursive: true });
    assert.ok(await store.acquire(KEY, 30_000), 'lease acquired');
  });
  it('refuses to read a staple file over 1 MiB', async () => {
    const { store, path } = await storeWith('huge');
    await writeFile(join(path, `${KEY}.der`), Buffer.alloc(1024 * 1024 + 1));
    await assert.rejects(store.load(KEY), /\.der is over the 1 MiB limit/);
  });
  it('prunes what it can and then reports what it could not (a directory at a lock path)', async () => {
    let now = Date.now();
    const path = join(root, 'prune-partial');
    const store = new DirectoryStore(path, { now: () => now });
    await store.save(OTHER, Buffer.from('x'), now + 60_000);
    await mkdir(join(path, `${KEY}.lock`));
    now += 120_000;
    await assert.rejects(store.prune(now), /lock .*\.lock is a directory, not a regular file; remove it \(pruning removed 1 entries; 1 could not be pruned\)$/);
    assert.deepEqual(await readdir(path), [`${KEY}.lock`]);
  });
});
