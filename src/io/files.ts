// File input with a size cap and one-line errors; atomic replacement for output.

import { randomUUID } from 'node:crypto';
import { closeSync, constants, fstatSync, fsyncSync, openSync, readSync, renameSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { InputError } from '../ocsp/errors.ts';
import { directorySync } from './directory-sync.ts';

/**
 * Read a whole file (or standard input for "-"), refusing anything over `maxBytes`. With
 * `regularFileOnly`, anything but a regular file (a FIFO, a device) is refused without
 * waiting on it: the open does not block, and the type is checked before any read.
 */
export async function readFileCapped(path: string, maxBytes: number, opts: ReadOptions = {}): Promise<Buffer> {
  if (path === '-') return readStreamCapped(process.stdin, maxBytes, 'standard input');
  let handle;
  try {
    handle = await open(path, openFlags(opts));
  } catch (err) {
    throw new InputError(path, describeFsError(err));
  }
  try {
    checkOpened(path, await handle.stat(), maxBytes, opts);
    // Read through a stream too: the file may grow, and special files report size 0.
    return await readStreamCapped(handle.createReadStream({ autoClose: false }), maxBytes, path);
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(path, describeFsError(err));
  } finally {
    await handle.close();
  }
}

/**
 * readFileCapped for a one-shot command's own input files (not standard input): the same checks
 * and errors, read synchronously, which starts faster (no thread-pool round trips, no streams to
 * load). Not for a long-running process: a slow disk would stall everything else it does.
 */
export function readFileCappedSync(path: string, maxBytes: number, opts: ReadOptions = {}): Buffer {
  let fd: number;
  try {
    fd = openSync(path, openFlags(opts));
  } catch (err) {
    throw new InputError(path, describeFsError(err));
  }
  try {
    checkOpened(path, fstatSync(fd), maxBytes, opts);
    // Read to the end, not to the size: the file may grow, and special files report size 0.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(64 * 1024);
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) return Buffer.concat(chunks, total);
      total += n;
      if (total > maxBytes) throw new InputError(path, `is over the ${formatBytes(maxBytes)} limit`);
      chunks.push(chunk.subarray(0, n));
    }
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(path, describeFsError(err));
  } finally {
    closeSync(fd);
  }
}

interface ReadOptions {
  readonly regularFileOnly?: boolean;
}

const openFlags = (opts: ReadOptions): number => (opts.regularFileOnly ? constants.O_RDONLY | constants.O_NONBLOCK : constants.O_RDONLY);

function checkOpened(path: string, info: Stats, maxBytes: number, opts: ReadOptions): void {
  if (info.isDirectory()) throw new InputError(path, 'is a directory');
  if (opts.regularFileOnly && !info.isFile()) throw new InputError(path, 'is not a regular file (a FIFO, socket or device?)');
  if (info.size > maxBytes) throw new InputError(path, `is ${formatBytes(info.size)}, over the ${formatBytes(maxBytes)} limit`);
}

async function readStreamCapped(stream: AsyncIterable<Buffer | string>, maxBytes: number, label: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    total += b.length;
    if (total > maxBytes) throw new InputError(label, `is over the ${formatBytes(maxBytes)} limit`);
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/**
 * A temp file's path beside `path`: `.<name>.<12 hex digits>.tmp` (the directory store finds
 * leftovers by that shape). The digits come from randomUUID, whose entropy Node draws in
 * batches: randomBytes(6) took 5 to 16 µs a call in a cold start's profile (285 ms of 21.9 s).
 */
export function tempPathFor(path: string): string {
  const u = randomUUID();
  // The first 12 hex digits of a v4 UUID are random (the version digit comes after them).
  return join(dirname(path), `.${basename(path)}.${u.slice(0, 8)}${u.slice(9, 13)}.tmp`);
}

export interface AtomicWriteOptions {
  /** The file's mode (default 0600). */
  readonly mode?: number;
  /** The file's modification time (the store records expiry in it). */
  readonly mtimeMs?: number;
}

/**
 * Replace `path` atomically: temp file (exclusive), fsync, rename, fsync the directory (one
 * fsync shared by the writes into it meanwhile).
 * `data` may be pieces, written in order.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | readonly Uint8Array[], opts: AtomicWriteOptions = {}): Promise<void> {
  const dir = dirname(path);
  const temp = tempPathFor(path);
  const handle = await open(temp, 'wx', opts.mode ?? 0o600);
  try {
    // Pieces are written as they are (no copy into one buffer: the daemon's detail file is tens of
    // MB). libuv writes them all, IOV_MAX at a time, partial writes resumed.
    if (data instanceof Uint8Array) await handle.writeFile(data);
    else await handle.writev([...data]);
    if (opts.mtimeMs !== undefined) await handle.utimes(new Date(opts.mtimeMs), new Date(opts.mtimeMs));
    await handle.sync();
  } catch (err) {
    await handle.close();
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await handle.close();
  try {
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  // Shared with the writes into the same folder meanwhile (directory-sync.ts).
  await directorySync.sync(dir);
}

/**
 * writeFileAtomic's steps, synchronously: for the descriptor reserve's retry (src/daemon/fd-reserve.ts),
 * which must open its file before the event loop turns and someone else takes the descriptor it freed.
 */
export function writeFileAtomicSync(path: string, data: Uint8Array, opts: Pick<AtomicWriteOptions, 'mode'> = {}): void {
  const dir = dirname(path);
  const temp = tempPathFor(path);
  const fd = openSync(temp, 'wx', opts.mode ?? 0o600);
  try {
    for (let done = 0; done < data.length;) done += writeSync(fd, data, done);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkQuietly(temp);
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(temp, path);
  } catch (err) {
    unlinkQuietly(temp);
    throw err;
  }
  const dirFd = openSync(dir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Best effort: the temp file's name marks it as one.
  }
}

export function describeFsError(err: unknown): string {
  const code = (err as { code?: string }).code;
  switch (code) {
    case 'ENOENT':
      return 'does not exist';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    default:
      return (err as Error).message ?? String(err);
  }
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(n % (1024 * 1024) === 0 ? 0 : 1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(n % 1024 === 0 ? 0 : 1)} KiB`;
  return `${n} bytes`;
}
