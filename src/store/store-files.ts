// File access for the directory store: reads that cannot hang on a FIFO or a device, and cannot
// read unbounded, and errors that name the store, the file and the reason.

import { constants, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { describeFsError, formatBytes } from '../io/files.ts';

/** A store operation that failed: the message names the store, what it was doing and why. */
export class StoreError extends Error {
  override readonly name: string = 'StoreError';
  /** The system's error code behind it (ENOSPC, EROFS, ENOTDIR…), if any. */
  readonly code: string | undefined;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = (options?.cause as { code?: string } | undefined)?.code;
  }
}

export function storeError(store: string, action: string, err: unknown): StoreError {
  if (err instanceof StoreError) return err;
  return new StoreError(`${store}: could not ${action}: ${describeFsError(err)}`, { cause: err });
}

/** The filesystem did not answer in time. */
export class StoreTimeout extends StoreError {
  override readonly name: string = 'StoreTimeout';
}

/** A file that exists but cannot be used as a store file (not regular, too large). */
export class UnusableFile extends Error {
  override readonly name = 'UnusableFile';
}

export function kindOf(info: Stats): string {
  if (info.isDirectory()) return 'a directory';
  if (info.isFIFO()) return 'a FIFO';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  if (info.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

export interface RegularFile {
  readonly data: Buffer;
  readonly info: Stats;
  /** The file held more than `maxBytes`; `data` has the first `maxBytes` only. */
  readonly truncated: boolean;
}

/**
 * Read a regular file of at most `maxBytes`, or null when it does not exist. The open is
 * non-blocking, so a FIFO or device at the path is refused instead of waiting for a writer.
 * Throws UnusableFile for a file that is not regular, and the system's error otherwise.
 */
export async function readRegular(path: string, maxBytes: number): Promise<RegularFile | null> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return null;
    if ((err as { code?: string }).code === 'ENXIO') throw new UnusableFile(`${path} is a socket, not a regular file`);
    throw err;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new UnusableFile(`${path} is ${kindOf(info)}, not a regular file`);
    // Read one byte more than allowed, to know whether the file holds more.
    const buffer = Buffer.alloc(Math.min(info.size, maxBytes) + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    const truncated = length > maxBytes;
    return { data: buffer.subarray(0, Math.min(length, maxBytes)), info, truncated };
  } finally {
    await handle.close();
  }
}

export function tooLarge(path: string, maxBytes: number): UnusableFile {
  return new UnusableFile(`${path} is over the ${formatBytes(maxBytes)} limit`);
}

export function isCode(err: unknown, ...codes: string[]): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code !== undefined && codes.includes(code);
}

/**
 * `work`, or a StoreError once `ms` have passed: a filesystem that stops answering (a dead NFS
 * server) must not hang the caller. The work itself cannot be cancelled and may finish later.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreTimeout(`${what}: no answer from the filesystem within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
