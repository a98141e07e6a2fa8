// Writing one certificate file's outputs: its staple file and its nginx include, so that they
// say what the engine says (the staple, or no file and "ssl_stapling off"). A failed write
// throws OutputWriteError naming the output; what was written before it stays recorded. The
// include says "on" only while the staple file it names can be read: nginx refuses to reload into
// a configuration naming one it cannot read, and its old workers then keep every old staple.
// The include's "off" is written on the descriptor reserve (fd-reserve.ts); the removal needs no descriptor.

import { constants } from 'node:fs';
import { access, unlink } from 'node:fs/promises';
import type { Logger } from '../engine/logger.ts';
import { describeFsError, writeFileAtomic, writeFileAtomicSync } from '../io/files.ts';
import { FD_NEEDS, processFdReserve, type FdReserve } from './fd-reserve.ts';
import type { Outputs } from './inputs.ts';
import { NGINX_INCLUDE_OFF, nginxIncludeOn } from './nginx.ts';
import type { OutputKind } from './output-health.ts';

export interface WatchedFile {
  readonly path: string;
  /** null: no staple file is written (`stapleFile: false`). */
  readonly stapleFile: string | null;
  readonly includeFile: string | null;
  mtimeMs: number;
  size: number;
  /** The certificate in it (its id), or null when the file could not be used. */
  certId: string | null;
  subject: string | null;
  serial: string | null;
  /** The bytes last written to the staple file (null: no staple file). */
  written: Buffer | null;
  /** When the staple in the file lapses (null: none written, or not judged yet: one found there at start is judged at its first sync). */
  writtenUntil: number | null;
  /** What the nginx include says now ('on', 'off', or null: not written by this process yet). */
  include: 'on' | 'off' | null;
  error: string | null;
  /** Why its outputs cannot be written (they would overwrite a certificate, or another's): nothing is written for it. */
  refused: string | null;
  /** The contents (times) that failed to parse once, while it held a certificate: a second look decides. */
  brokenSince: { readonly mtimeMs: number; readonly size: number } | null;
  /** The sync in progress: syncs of one file run one after the other, each from the engine's state when it runs. */
  syncing: Promise<void>;
}

export function newWatchedFile(path: string, outputs: Outputs, refused: string | null): WatchedFile {
  return {
    path,
    stapleFile: outputs.stapleFile,
    includeFile: outputs.includeFile,
    mtimeMs: 0,
    size: 0,
    certId: null,
    subject: null,
    serial: null,
    written: null,
    writtenUntil: null,
    include: null,
    error: null,
    refused,
    brokenSince: null,
    syncing: Promise.resolve(),
  };
}

export interface OutputChange {
  /** The staple file already held the staple (or was already absent). */
  readonly stapleCurrent: boolean;
  /** A staple file was removed. */
  readonly removed: boolean;
  /** The include changed in a way a server would see. */
  readonly includeChanged: boolean;
}

export class OutputWriteError extends Error {
  override readonly name = 'OutputWriteError';
  constructor(
    readonly kind: OutputKind,
    readonly target: string,
    cause: unknown,
  ) {
    super(describeFsError(cause));
  }
}

async function write(kind: OutputKind, path: string, data: Uint8Array, reserve?: FdReserve): Promise<void> {
  // The folder's fsync too: leaving it out made no difference on a quiet machine (bench/staple-write).
  const options = { mode: 0o644 };
  const writeIt = (): Promise<void> => writeFileAtomic(path, data, options);
  try {
    await (reserve ? reserve.withRoom(writeIt, FD_NEEDS.fileWrite, () => writeFileAtomicSync(path, data, options)) : writeIt());
  } catch (err) {
    throw new OutputWriteError(kind, path, err);
  }
}

/**
 * Why the staple file cannot be read now, or null. `gone` (ENOENT, ENOTDIR: its folder replaced
 * by a file) is a definite answer; any other error is unknown, yet nginx could not be promised the
 * file either. access() takes no descriptor, so fd pressure cannot make a readable file look unreadable.
 */
async function unreadable(path: string): Promise<{ readonly gone: boolean; readonly cause: unknown } | null> {
  try {
    await access(path, constants.R_OK);
    return null;
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    return { gone: code === 'ENOENT' || code === 'ENOTDIR', cause };
  }
}

async function includeOff(f: WatchedFile, reserve: FdReserve): Promise<void> {
  if (!f.includeFile || f.include === 'off') return;
  await write('nginx-include', f.includeFile, Buffer.from(NGINX_INCLUDE_OFF), reserve);
  f.include = 'off';
}

/**
 * Before a reload: an include that says "on" while its staple file cannot be read goes "off"
 * (a file gone is forgotten, so that it is written again). Returns the problem, or null when the
 * include can stay as it is. Throws OutputWriteError when the include cannot be written.
 */
export async function includeOnlyIfReadable(f: WatchedFile, reserve: FdReserve = processFdReserve): Promise<OutputWriteError | null> {
  if (f.include !== 'on' || !f.stapleFile) return null;
  const problem = await unreadable(f.stapleFile);
  if (!problem) return null;
  if (problem.gone) f.written = null;
  await includeOff(f, reserve);
  return new OutputWriteError('staple-file', f.stapleFile, problem.cause);
}

/** Make f's files match `staple` (null: none). Returns what changed, or null when nothing had to. Throws OutputWriteError. */
export async function writeOutputs(
  f: WatchedFile,
  staple: Buffer | null,
  noResponder: boolean,
  log: Logger,
  reserve: FdReserve = processFdReserve,
): Promise<OutputChange | null> {
  const stapleFile = f.stapleFile;
  if (stapleFile === null) return null;
  // nginx refuses a configuration whose include is missing: write "off" as soon as a
  // certificate has no staple, not only once a first staple came and went.
  const includeWanted = !f.includeFile ? null : staple ? 'on' : 'off';
  const stapleCurrent = staple ? f.written !== null && staple.equals(f.written) : f.written === null;
  if (stapleCurrent && f.include === includeWanted) return null;
  const before = f.include;
  let removed = false;
  if (staple) {
    if (!stapleCurrent) {
      try {
        await write('staple-file', stapleFile, staple);
      } catch (err) {
        // The file the include names may have gone with its folder: then the include goes off.
        await includeOnlyIfReadable(f, reserve);
        throw err;
      }
      f.written = staple;
      log.info({ file: stapleFile, serial: f.serial }, 'staple file written');
    }
    // The include is written after the staple it names (and turned off before the staple goes).
    if (f.includeFile && f.include !== 'on') {
      const problem = await unreadable(stapleFile);
      if (problem) {
        if (problem.gone) f.written = null;
        throw new OutputWriteError('staple-file', stapleFile, problem.cause);
      }
      await write('nginx-include', f.includeFile, Buffer.from(nginxIncludeOn(stapleFile)));
      f.include = 'on';
    }
  } else {
    await includeOff(f, reserve);
    try {
      // No descriptor needed: nothing for the reserve to free.
      await unlink(stapleFile);
      removed = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new OutputWriteError('staple-file', stapleFile, err);
    }
    f.written = null;
    // A certificate without an OCSP URL is a quiet no-op, even when an old staple file goes.
    if (removed && noResponder) log.info({ file: stapleFile, serial: f.serial }, 'the certificate has no OCSP responder: its old staple file removed');
    else if (removed) log.warn({ file: stapleFile, serial: f.serial }, 'no acceptable staple: staple file removed');
  }
  // A first "off" include with no staple file removed changes nothing a server serves: no reload for it.
  const includeChanged = before !== includeWanted && !(before === null && includeWanted === 'off');
  return { stapleCurrent, removed, includeChanged };
}
