import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DirectoryStore } from '../../src/store/directory-store.ts';

const KEY = 'a'.repeat(64);
const OTHER = 'b'.repeat(64);
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stapler-store-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('DirectoryStore', () => {
  it('saves atomically, loads, and deletes', async () => {
    const store = new DirectoryStore(join(dir, 'basic'));
    assert.equal(await store.load(KEY), null);
    await store.save(KEY, Buffer.from('first'), 0);
    await store.save(KEY, Buffer.from('second'), 0);
    assert.deepEqual(await store.load(KEY), Buffer.from('second'));
    const files = await readdir(join(dir, 'basic'));
    assert.deepEqual(files, [`${KEY}.der`], 'no temp files left behind');
    assert.equal((await stat(join(dir, 'basic', `${KEY}.der`))).mode & 0o777, 0o600);
    await store.delete(KEY);
    await store.delete(KEY);
    assert.equal(await store.load(KEY), null);
  });
  it('refuses keys that could name another path', async () => {
    const store = new DirectoryStore(join(dir, 'keys'));
    await assert.rejects(store.load('../etc/passwd'), /invalid store key/);
  });
  it('gives one process the lease; the others get null until it is released', async () => {
    const a = new DirectoryStore(join(dir, 'lease'));
    const b = new DirectoryStore(join(dir, 'lease'));
    const lease = await a.acquire(KEY, 30_000);
    assert.ok(lease);
    assert.equal(await b.acquire(KEY, 30_000), null);
    assert.ok(await b.acquire(OTHER, 30_000), 'leases are per certificate');
    await lease.release();
    assert.ok(await b.acquire(KEY, 30_000));
  });
  it('takes over a stale lease (its holder died), and the old holder cannot release the new one', async () => {
    let now = Date.UTC(2026, 10, 21);
    const a = new DirectoryStore(join(dir, 'stale'), { now: () => now });
    const b = new DirectoryStore(join(dir, 'stale'), { now: () => now });
    const old = await a.acquire(KEY, 30_000);
    assert.ok(old);
    now += 29_000;
    assert.equal(await b.acquire(KEY, 30_000), null, 'not stale yet');
    now += 2_000;
    const taken = await b.acquire(KEY, 30_000);
    assert.ok(taken, 'stale lease taken over');
    await old.release();
    now += 1_000;
    assert.equal(await a.acquire(KEY, 30_000), null, "the old holder's release did not free the new lease");
    await taken.release();
  });
  it('treats a corrupt lock file by its age', async () => {
    const store = new DirectoryStore(join(dir, 'corrupt-lock'));
    await store.save(OTHER, Buffer.from('x'), 0); // creates the directory
    await writeFile(join(dir, 'corrupt-lock', `${KEY}.lock`), '{not json');
    assert.equal(await store.acquire(KEY, 60_000), null, 'fresh corrupt lock is respected');
    const later = new DirectoryStore(join(dir, 'corrupt-lock'), { now: () => Date.now() + 120_000 });
    assert.ok(await later.acquire(KEY, 60_000), 'old corrupt lock is taken over');
  });
  it("tells a watcher about another instance's writes within a second", async () => {
    const path = join(dir, 'watch');
    const writer = new DirectoryStore(path);
    const reader = new DirectoryStore(path, { pollMs: 200 });
    await writer.save(OTHER, Buffer.from('x'), 0);
    const seen: string[] = [];
    const changed = new Promise<void>((resolve) => {
      const stop = reader.watch((key) => {
        seen.push(key);
        if (key === KEY) {
          stop();
          resolve();
        }
      });
    });
    await new Promise((r) => setTimeout(r, 50));
    const start = Date.now();
    await writer.save(KEY, Buffer.from('new staple'), 0);
    await Promise.race([changed, new Promise((_, reject) => setTimeout(() => reject(new Error('no change seen within 1 s')), 1_000))]);
    assert.ok(Date.now() - start < 1_000);
    assert.ok(seen.includes(KEY));
  });
});
