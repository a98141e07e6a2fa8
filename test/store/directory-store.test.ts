import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DirectoryStore } from '../../src/store/directory-store.ts';
import { waitFor } from '../support/wait.ts';

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
    assert.ok(lease, 'lease acquired');
    assert.equal(await b.acquire(KEY, 30_000), null);
    assert.ok(await b.acquire(OTHER, 30_000), 'leases are per certificate');
    await lease.release();
    assert.ok(await b.acquire(KEY, 30_000), 'lease acquired');
  });
  it('takes over a stale lease (its holder died), and the old holder cannot release the new one', async () => {
    let now = Date.UTC(2026, 10, 21);
    const a = new DirectoryStore(join(dir, 'stale'), { now: () => now });
    const b = new DirectoryStore(join(dir, 'stale'), { now: () => now });
    const old = await a.acquire(KEY, 30_000);
    assert.ok(old, 'lease acquired');
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
  it("tells a watcher about another instance's writes", async () => {
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
    // The watcher is live once it reports a write of the other key (its first look reports nothing).
    let n = 0;
    await waitFor('the watcher, live', async () => {
      if (seen.includes(OTHER)) return true;
      await writer.save(OTHER, Buffer.from(`x${n++}`), 0);
      return false;
    });
    await writer.save(KEY, Buffer.from('new staple'), 0);
    await waitFor('the watcher reports the key', () => seen.includes(KEY));
    await changed;
  });
});

describe('DirectoryStore expiry and prune', () => {
  const HOUR = 3_600_000;
  const DAY = 24 * HOUR;
  it("records a staple's expiry as its file's mtime", async () => {
    const store = new DirectoryStore(join(dir, 'mtime'));
    const expiresAt = Date.now() + 4 * DAY;
    await store.save(KEY, Buffer.from('staple'), expiresAt);
    assert.equal(Math.round((await stat(join(dir, 'mtime', `${KEY}.der`))).mtimeMs), expiresAt);
  });
  it('removes expired staples, stale locks, old takeover markers and leftover temp files, and keeps the rest', async () => {
    const path = join(dir, 'prune');
    let now = Date.now();
    const store = new DirectoryStore(path, { now: () => now });
    await store.save(KEY, Buffer.from('expires in an hour'), now + HOUR);
    await store.save(OTHER, Buffer.from('expires in three days'), now + 3 * DAY);
    assert.ok(await store.acquire(KEY, 30_000), 'lease acquired');
    const held = await store.acquire(OTHER, 30_000);
    assert.ok(held, 'lease acquired');
    const marker = `${KEY}.lock.${'0'.repeat(24)}.takeover`;
    await writeFile(join(path, marker), '30000');
    const temp = `.${KEY}.der.${'1'.repeat(12)}.tmp`;
    await writeFile(join(path, temp), 'interrupted write');
    await writeFile(join(path, 'notes.txt'), 'not ours');
    assert.equal(await store.prune(now), 0, 'nothing is due yet');
    now += 2 * HOUR;
    assert.ok((await held.renew()) === false, 'the lease on OTHER expired');
    // Due: KEY's staple, both locks, the marker and the temp file.
    assert.equal(await store.prune(now), 5);
    const left = await readdir(path);
    assert.deepEqual(left.filter((n) => !n.endsWith('.takeover')).sort(), [`${OTHER}.der`, 'notes.txt'].sort());
    // The prune takes stale locks the way a process does, through a takeover marker: those go an hour later.
    assert.equal(left.filter((n) => n.endsWith('.takeover')).length, 2);
    assert.equal(await store.prune(now + HOUR + 1_000), 2);
    assert.deepEqual((await readdir(path)).sort(), [`${OTHER}.der`, 'notes.txt'].sort());
    assert.deepEqual(await store.load(OTHER), Buffer.from('expires in three days'));
  });
  it('keeps a staple written by an earlier version (its mtime is a write time) for 10 days', async () => {
    const path = join(dir, 'upgrade');
    const store = new DirectoryStore(path);
    await store.save(OTHER, Buffer.from('x'), 0); // creates the directory
    await writeFile(join(path, `${KEY}.der`), 'old staple');
    const now = Date.now();
    assert.deepEqual(await new DirectoryStore(path, { now: () => now + 9 * DAY }).load(KEY), Buffer.from('old staple'));
    assert.equal(await store.prune(now + 9 * DAY), 0);
    assert.equal(await store.prune(now + 11 * DAY), 2, 'both past 10 days');
  });
  it('lets a lock be taken over again once the prune removes the marker of a takeover whose winner died', async () => {
    const path = join(dir, 'dead-winner');
    let now = Date.now();
    const a = new DirectoryStore(path, { now: () => now });
    assert.ok(await a.acquire(KEY, 30_000), 'lease acquired');
    now += 31_000;
    const lock = JSON.parse(await readFile(join(path, `${KEY}.lock`), 'utf8')) as { token: string };
    // The winner of this generation's takeover created its marker and died before replacing the lock.
    await writeFile(join(path, `${KEY}.lock.${lock.token}.takeover`), '30000');
    assert.equal(await a.acquire(KEY, 30_000), null, 'the marker stands');
    now += 11 * 60_000;
    await a.prune(now);
    assert.ok(await a.acquire(KEY, 30_000), 'taken over after the prune');
  });
});

describe('DirectoryStore watch, by the poll alone', () => {
  it('sees every save, even two with the same expiry and size, and a new certificate', async () => {
    const path = join(dir, 'poll');
    const writer = new DirectoryStore(path);
    const reader = new DirectoryStore(path, { pollMs: 50, fsWatch: false });
    await writer.save(OTHER, Buffer.from('x'), 0);
    const seen: string[] = [];
    const stop = reader.watch((key) => void seen.push(key));
    const reports = (): number => seen.filter((k) => k === KEY).length;
    try {
      // The poll's first look reports nothing: it is done once a later save of the other key is reported.
      let n = 0;
      await waitFor('the first look', async () => {
        if (seen.includes(OTHER)) return true;
        await writer.save(OTHER, Buffer.from(`x${n++}`), 0);
        return false;
      });
      const expiresAt = Date.now() + 3_600_000;
      await writer.save(KEY, Buffer.from('staple one'), expiresAt);
      await waitFor('the first save reported', () => reports() === 1);
      await writer.save(KEY, Buffer.from('staple two'), expiresAt);
      await waitFor('the second save reported', () => reports() === 2);
      assert.equal(reports(), 2);
    } finally {
      stop();
    }
  });
});
