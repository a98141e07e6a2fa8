// Writing one certificate file's outputs: its staple file and its nginx include, so that they
// say what the engine says (the staple, or no file and "ssl_stapling off").

import { unlink } from 'node:fs/promises';
import type { Logger } from '../engine/logger.ts';
import { describeFsError, writeFileAtomic } from '../io/files.ts';
import { NGINX_INCLUDE_OFF, nginxIncludeOn } from './nginx.ts';

export interface WatchedFile {
  readonly path: string;
  readonly stapleFile: string;
  readonly includeFile: string | null;
  mtimeMs: number;
  size: number;
  /** The certificate in it (its id), or null when the file could not be used. */
  certId: string | null;
  subject: string | null;
  serial: string | null;
  /** The bytes last written to the staple file (null: no staple file). */
  written: Buffer | null;
  /** What the nginx include says now ('on', 'off', or null: not written by this process yet). */
  include: 'on' | 'off' | null;
  error: string | null;
  /** Why its outputs cannot be written (they would overwrite a certificate, or another's): nothing is written for it. */
  refused: string | null;
  /** The sync in progress: syncs of one file run one after the other, each from the engine's state when it runs. */
  syncing: Promise<void>;
}

export interface OutputChange {
  /** The staple file already held the staple (or was already absent). */
  readonly stapleCurrent: boolean;
  /** A staple file was removed. */
  readonly removed: boolean;
  /** The include changed in a way a server would see. */
  readonly includeChanged: boolean;
}

/** Make f's files match `staple` (null: none). Returns what changed, or null when nothing did or a write failed (logged). */
export async function writeOutputs(f: WatchedFile, staple: Buffer | null, noResponder: boolean, log: Logger): Promise<OutputChange | null> {
  // nginx refuses a configuration whose include is missing: write "off" as soon as a
  // certificate has no staple, not only once a first staple came and went.
  const includeWanted = !f.includeFile ? null : staple ? 'on' : 'off';
  const stapleCurrent = staple ? f.written !== null && staple.equals(f.written) : f.written === null;
  if (stapleCurrent && f.include === includeWanted) return null;
  let removed = false;
  try {
    if (staple) {
      if (!stapleCurrent) await writeFileAtomic(f.stapleFile, staple, 0o644);
      // The include is written after the staple it names (and turned off before the staple goes).
      if (f.includeFile && f.include !== 'on') await writeFileAtomic(f.includeFile, Buffer.from(nginxIncludeOn(f.stapleFile)), 0o644);
      if (!stapleCurrent) log.info({ file: f.stapleFile, serial: f.serial }, 'staple file written');
    } else {
      if (f.includeFile && f.include !== 'off') await writeFileAtomic(f.includeFile, Buffer.from(NGINX_INCLUDE_OFF), 0o644);
      removed = await unlink(f.stapleFile).then(
        () => true,
        (err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT') throw err;
          return false;
        },
      );
      // A certificate without an OCSP URL is a quiet no-op, even when an old staple file goes.
      if (removed && noResponder) log.info({ file: f.stapleFile, serial: f.serial }, 'the certificate has no OCSP responder: its old staple file removed');
      else if (removed) log.warn({ file: f.stapleFile, serial: f.serial }, 'no acceptable staple: staple file removed');
    }
  } catch (err) {
    log.error({ file: f.stapleFile, err: describeFsError(err) }, 'cannot write the staple file');
    return null;
  }
  // A first "off" include with no staple file removed changes nothing a server serves: no reload for it.
  const includeChanged = f.include !== includeWanted && !(f.include === null && includeWanted === 'off');
  f.written = staple;
  f.include = includeWanted;
  return { stapleCurrent, removed, includeChanged };
}
