// A filesystem that stops answering (a dead NFS server) must not hang the store's callers. It is
// simulated by tying up every libuv thread, where file operations run, with opens of FIFOs that
// wait for a writer; the store's operations then get no answer, and must fail by their deadline.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, open, openSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DirectoryStore } from '../../src/store/directory-store.ts';

const KEY = '9'.repeat(64);
const THREADS = Number(process.env.UV_THREADPOOL_SIZE ?? 4);

/** Fails instead of hanging, so that the FIFOs are released whatever happens. */
function guard<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('hangs: the store has no deadline')), 5_000);
  });
  return Promise.race([work, hang]).finally(() => clearTimeout(timer));
}

describe('DirectoryStore on a filesystem that stops answering', () => {
  it('fails each operation with a clear error by its deadline', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stapler-hung-'));
    const store = new DirectoryStore(join(dir, 'store'), { operationTimeoutMs: 200 });
    await store.save(KEY, Buffer.from('x'), 0); // the directory exists before the filesystem hangs
    const fifos = Array.from({ length: THREADS }, (_, i) => join(dir, `fifo-${i}`));
    for (const fifo of fifos) {
      execFileSync('mkfifo', [fifo]);
      open(fifo, 'r', (err, fd) => {
        if (!err) closeSync(fd);
      });
    }
    try {
      const hung = /^StoreTimeout: directory .*: could not (load|save|acquire the lease on|list the directory).*: no answer from the filesystem within 200 ms$/;
      await assert.rejects(guard(store.load(KEY)), hung);
      await assert.rejects(guard(store.save(KEY, Buffer.from('y'), 0)), hung);
      await assert.rejects(guard(store.acquire(KEY, 30_000)), hung);
      await assert.rejects(guard(store.prune(Date.now())), hung);
    } finally {
      // Give each waiting open its writer (a synchronous open runs on this thread, not the pool).
      for (const fifo of fifos) closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
    }
    // The operations that timed out run now, in the background: the save may land before this load.
    const after = await store.load(KEY);
    assert.ok(after !== null && ['x', 'y'].includes(after.toString()), 'answers again once the filesystem does');
    await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  });
});
