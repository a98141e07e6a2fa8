// Capped file reads: the CLI's synchronous read (readFileCappedSync) and the daemon's
// asynchronous one (readFileCapped) give the same bytes and the same one-line errors, read to
// the end rather than to the reported size, and refuse a FIFO without waiting on it; an atomic
// write of one buffer or of pieces (the daemon's detail file, never copied into one buffer).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readFileCapped, readFileCappedSync, tempPathFor, writeFileAtomic, writeFileAtomicSync } from '../../src/io/files.ts';

const dir = mkdtempSync(join(tmpdir(), 'stapler-files-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Both readers' answers for one path: the bytes, or the error message. */
async function both(path: string, maxBytes: number, opts: { regularFileOnly?: boolean } = {}): Promise<[string, string]> {
  const answer = (f: () => Buffer | Promise<Buffer>): Promise<string> =>
    Promise.resolve()
      .then(f)
      .then(
        (b) => `bytes:${b.toString('latin1')}`,
        (err: Error) => `error:${err.message}`,
      );
  return [await answer(() => readFileCappedSync(path, maxBytes, opts)), await answer(() => readFileCapped(path, maxBytes, opts))];
}

describe('capped file reads, synchronous and asynchronous', () => {
  it('read a regular file whole, larger than one read chunk', async () => {
    const big = join(dir, 'big.bin');
    const content = Buffer.alloc(200_000, 'ab');
    writeFileSync(big, content);
    const [sync, async_] = await both(big, 1024 * 1024);
    assert.equal(sync, `bytes:${content.toString('latin1')}`);
    assert.equal(async_, sync);
  });

  it('refuse a missing file, a directory and a file over the limit, naming it', async () => {
    const small = join(dir, 'small.txt');
    writeFileSync(small, 'x'.repeat(2048));
    for (const [path, reason] of [
      [join(dir, 'missing.der'), /does not exist$/],
      [dir, /is a directory$/],
      [small, /is 2 KiB, over the 1 KiB limit$/],
    ] as const) {
      const [sync, async_] = await both(path, 1024);
      assert.match(sync, reason);
      assert.ok(sync.startsWith(`error:${path}`), sync);
      assert.equal(async_, sync);
    }
  });

  it('read a file that reports size 0 to its end, and apply the cap while reading', async () => {
    const special = '/proc/self/maps'; // Linux, as the suite is: stat says 0 bytes
    assert.equal(statSync(special).size, 0);
    const [sync] = await both(special, 1024 * 1024);
    assert.match(sync, /^bytes:.*node/s, 'the whole listing, though stat says 0 bytes');
    const [syncCapped, asyncCapped] = await both(special, 64);
    assert.equal(syncCapped, `error:${special}: is over the 64 bytes limit`);
    assert.equal(asyncCapped, syncCapped);
  });

  it('refuse a FIFO when only regular files will do, without waiting for a writer', async () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const [sync, async_] = await both(fifo, 1024, { regularFileOnly: true });
    assert.equal(sync, `error:${fifo}: is not a regular file (a FIFO, socket or device?)`);
    assert.equal(async_, sync);
  });
});

describe('atomic writes', () => {
  it('write pieces in order, more of them than one writev() system call takes (IOV_MAX, 1,024), with the mode asked for', async () => {
    const pieces = Array.from({ length: 1_300 }, (_, i) => Buffer.from(`line ${i}\n`));
    const path = join(dir, 'pieces.txt');
    await writeFileAtomic(path, pieces, { mode: 0o644 });
    assert.equal(readFileSync(path, 'utf8'), pieces.map((p) => p.toString()).join(''));
    assert.equal(statSync(path).mode & 0o777, 0o644);
    await writeFileAtomic(path, Buffer.from('whole\n'));
    assert.equal(readFileSync(path, 'utf8'), 'whole\n', 'one buffer replaces it');
  });

  it('write synchronously the same way: the mode asked for, and no temp file left, also when the folder is gone', () => {
    const path = join(dir, 'sync.txt');
    writeFileAtomicSync(path, Buffer.from('first\n'));
    writeFileAtomicSync(path, Buffer.from('second\n'), { mode: 0o644 });
    assert.equal(readFileSync(path, 'utf8'), 'second\n');
    assert.equal(statSync(path).mode & 0o777, 0o644);
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.startsWith('.sync.txt')),
      [],
    );
    assert.throws(() => writeFileAtomicSync(join(dir, 'no-such-folder', 'x'), Buffer.from('x')), { code: 'ENOENT' });
  });

  it('name their temp files .NAME.<12 hex digits>.tmp beside the file (the shape the directory store cleans up), never twice the same', () => {
    const names = new Set(Array.from({ length: 1_000 }, () => tempPathFor('/some/dir/abc.der')));
    assert.equal(names.size, 1_000);
    for (const n of names) assert.match(n, /^\/some\/dir\/\.abc\.der\.[0-9a-f]{12}\.tmp$/);
  });
});
