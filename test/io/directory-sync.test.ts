// The shared folder fsync: one that began before a caller came never counts for it; callers that
// come while one runs share the next; a failure reaches everyone who shared it; folders are apart.

import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createDirectorySync } from '../../src/io/directory-sync.ts';
import { writeFileAtomic } from '../../src/io/files.ts';

/** A folder fsync the test ends by hand: each call is recorded with the means to end it. */
function controlledFsync(): {
  calls: { dir: string; end: (err?: Error) => void }[];
  fsync: (dir: string) => Promise<void>;
} {
  const calls: { dir: string; end: (err?: Error) => void }[] = [];
  return {
    calls,
    fsync: (dir) => new Promise<void>((resolve, reject) => calls.push({ dir, end: (err) => (err ? reject(err) : resolve()) })),
  };
}

const turns = async (n = 5): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

/** Whether the promise has settled yet. */
function tracked(p: Promise<void>): { done: () => boolean; promise: Promise<void> } {
  let done = false;
  const promise = p.then(
    () => void (done = true),
    (err: unknown) => {
      done = true;
      throw err;
    },
  );
  promise.catch(() => undefined);
  return { done: () => done, promise };
}

describe('the shared folder fsync', () => {
  it('starts one at once; callers that come while it runs wait for one more, shared, that begins after it', async () => {
    const { calls, fsync } = controlledFsync();
    const ds = createDirectorySync(fsync);
    const first = tracked(ds.sync('/a'));
    await turns();
    assert.equal(calls.length, 1);
    // Three writers rename while the first fsync runs: it may have begun before their renames.
    const later = [tracked(ds.sync('/a')), tracked(ds.sync('/a')), tracked(ds.sync('/a'))];
    await turns();
    assert.equal(calls.length, 1, 'the next fsync waits for the one running');
    calls[0]!.end();
    await first.promise;
    await turns();
    assert.ok(
      later.every((l) => !l.done()),
      'the first fsync does not count for callers that came after it began',
    );
    assert.equal(calls.length, 2, 'one fsync for the three');
    calls[1]!.end();
    await Promise.all(later.map((l) => l.promise));
    // Nothing running: the next caller starts its own.
    const after = tracked(ds.sync('/a'));
    await turns();
    assert.equal(calls.length, 3);
    calls[2]!.end();
    await after.promise;
  });

  it('a caller that comes once the queued fsync has begun gets another one after it', async () => {
    const { calls, fsync } = controlledFsync();
    const ds = createDirectorySync(fsync);
    void ds.sync('/a');
    await turns();
    const second = tracked(ds.sync('/a'));
    calls[0]!.end();
    await turns();
    assert.equal(calls.length, 2, 'the second has begun');
    const third = tracked(ds.sync('/a'));
    calls[1]!.end();
    await second.promise;
    await turns();
    assert.equal(third.done(), false);
    assert.equal(calls.length, 3);
    calls[2]!.end();
    await third.promise;
  });

  it('a failed fsync rejects every caller that shared it, and the next caller tries again', async () => {
    const { calls, fsync } = controlledFsync();
    const ds = createDirectorySync(fsync);
    const a = ds.sync('/a');
    await turns();
    calls[0]!.end(new Error('EIO: i/o error, fsync'));
    await assert.rejects(a, /EIO/);
    const b = ds.sync('/a');
    const c = ds.sync('/a');
    await turns();
    assert.equal(calls.length, 2);
    calls[1]!.end(new Error('EIO again'));
    await assert.rejects(b, /EIO again/);
    await assert.rejects(c, /EIO again/);
    const d = ds.sync('/a');
    await turns();
    calls[2]!.end();
    await d;
  });

  it('folders do not share or wait for each other', async () => {
    const { calls, fsync } = controlledFsync();
    const ds = createDirectorySync(fsync);
    void ds.sync('/a');
    const b = ds.sync('/b');
    await turns();
    assert.deepEqual(
      calls.map((c) => c.dir),
      ['/a', '/b'],
    );
    calls[1]!.end();
    await b;
    calls[0]!.end();
  });

  it('atomic writes into one folder at once all land, each with its own bytes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stapler-dirsync-'));
    try {
      await Promise.all(Array.from({ length: 200 }, (_, i) => writeFileAtomic(join(dir, `f${i}`), Buffer.from(`file ${i}`))));
      const names = await readdir(dir);
      assert.equal(names.length, 200, names.filter((n) => n.endsWith('.tmp')).join(', '));
      for (let i = 0; i < 200; i += 37) assert.equal(await readFile(join(dir, `f${i}`), 'utf8'), `file ${i}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
