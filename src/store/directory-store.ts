// The embedded default store: one DER file per certificate in a directory, written atomically.
// Several processes (cluster workers, or two servers on one host) may share the directory:
// a lock file per certificate makes one of them the fetcher, and the others see its result
// through a directory watch, with a poll as the fallback.

import { watch, type FSWatcher, type Stats } from 'node:fs';
import { link, lstat, mkdir, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { tempPathFor, writeFileAtomic } from '../io/files.ts';
import { LOCK_SUFFIX, LockFiles } from './directory-lock.ts';
import { isCode, readRegular, StoreError, storeError, StoreTimeout, tooLarge, withDeadline } from './store-files.ts';
import { keptUntil, oneCopy, UNKNOWN_EXPIRY_MS, type Lease, type StapleStore, type StoredCopies } from './store.ts';

const KEY_PATTERN = /^[0-9a-f]{64}$/;
const FILE_SUFFIX = '.der';
const STAPLE_NAME = /^[0-9a-f]{64}\.der$/;
const LOCK_NAME = /^[0-9a-f]{64}\.lock$/;
const MARKER_NAME = /^[0-9a-f]{64}\.lock\.[0-9a-f]{24}\.takeover$/;
/** Temp files of writeFileAtomic, of lock writes, and of the prune's own moves. */
const TEMP_NAME = /^\.[0-9a-f]{64}\.(der|lock)\.[0-9a-f]{12}\.tmp$/;
/** A temp file older than this was left by an interrupted write. */
const LEFTOVER_AGE_MS = 60 * 60 * 1000;
/** A staple file larger than this is not read (responses are at most 64 KiB). */
const MAX_FILE_BYTES = 1024 * 1024;
/** mtime must lead ctime by this much to be a recorded expiry rather than a write time. */
const RECORDED_EXPIRY_LEAD_MS = 1000;

/** Options of DirectoryStore. */
export interface DirectoryStoreOptions {
  /** How often to look for other processes' writes when the directory watch misses them. */
  readonly pollMs?: number;
  /** The clock for lock and staple expiry (injectable for tests; real time otherwise). */
  readonly now?: () => number;
  /** False to rely on the poll alone (filesystems where directory watches are unreliable, such as NFS). */
  readonly fsWatch?: boolean;
  /** How long one operation (one file for the prune) may take before it fails (10 s). */
  readonly operationTimeoutMs?: number;
}

/**
 * When a staple file stops being kept. save() sets the file's mtime to the staple's expiry, ahead
 * of its ctime (the save). A file whose mtime is not ahead of its ctime was written by an earlier
 * version or by hand, and its mtime is a write time: it is kept as long as the longest validity.
 */
export function recordedExpiry(info: Stats): number {
  return info.mtimeMs > info.ctimeMs + RECORDED_EXPIRY_LEAD_MS ? info.mtimeMs : info.mtimeMs + UNKNOWN_EXPIRY_MS;
}

/** The default store: one file per certificate in a directory, written atomically, shared by processes on one host. */
export class DirectoryStore implements StapleStore {
  readonly description: string;
  private readonly pollMs: number;
  private readonly now: () => number;
  private readonly fsWatch: boolean;
  private readonly timeoutMs: number;
  private readonly locks: LockFiles;
  private ready: Promise<void> | null = null;

  constructor(
    readonly dir: string,
    options: DirectoryStoreOptions = {},
  ) {
    this.description = `directory ${dir}`;
    this.pollMs = options.pollMs ?? 500;
    this.now = options.now ?? Date.now;
    this.fsWatch = options.fsWatch ?? true;
    this.timeoutMs = options.operationTimeoutMs ?? 10_000;
    this.locks = new LockFiles(this.description, this.now);
  }

  private file(key: string, suffix = FILE_SUFFIX): string {
    // Keys are SHA-256 hex digests: nothing else may become a path.
    if (!KEY_PATTERN.test(key)) throw new StoreError(`${this.description}: invalid store key "${key}"`);
    return join(this.dir, `${key}${suffix}`);
  }

  private ensureDir(): Promise<void> {
    // A failure is not remembered: the directory may be fixed while we run.
    this.ready ??= mkdir(this.dir, { recursive: true, mode: 0o700 }).then(
      () => undefined,
      (err: unknown) => {
        this.ready = null;
        throw storeError(this.description, `create the directory`, err);
      },
    );
    return this.ready;
  }

  load(key: string): Promise<Buffer | null> {
    return this.bounded(this.loadNow(key), `load ${key}`);
  }

  /** The one copy; settle writes where the file was missing or held a copy the caller lets go. */
  async loadCopies(key: string): Promise<StoredCopies> {
    return oneCopy(await this.load(key), (chosen, expiresAt) => this.save(key, chosen, expiresAt));
  }

  save(key: string, der: Buffer, expiresAt: number): Promise<void> {
    return this.bounded(this.saveNow(key, der, expiresAt), `save ${key}`);
  }

  delete(key: string): Promise<void> {
    return this.bounded(this.deleteNow(key), `delete ${key}`);
  }

  async acquire(key: string, ttlMs: number): Promise<Lease | null> {
    const lease = await this.bounded(this.acquireNow(key, ttlMs), `acquire the lease on ${key}`);
    if (lease === null) return null;
    return {
      renew: () => this.bounded(lease.renew(), `renew the lease on ${key}`),
      release: () => this.bounded(lease.release(), `release the lease on ${key}`),
    };
  }

  private bounded<T>(work: Promise<T>, what: string): Promise<T> {
    return withDeadline(work, this.timeoutMs, `${this.description}: could not ${what}`);
  }

  private async loadNow(key: string): Promise<Buffer | null> {
    const path = this.file(key);
    let file;
    try {
      file = await readRegular(path, MAX_FILE_BYTES);
    } catch (err) {
      throw storeError(this.description, `load staple ${path}`, err);
    }
    if (file === null) return null;
    if (file.truncated) throw storeError(this.description, `load staple ${path}`, tooLarge(path, MAX_FILE_BYTES));
    if (recordedExpiry(file.info) < this.now()) return null;
    return file.data;
  }

  /** The file's mtime records `expiresAt`, so that the prune needs no parsing to find expired files. */
  private async saveNow(key: string, der: Buffer, expiresAt: number): Promise<void> {
    const path = this.file(key);
    // An expiry not clearly after the save would read as a write time (see recordedExpiry).
    const mtime = Math.max(keptUntil(expiresAt, this.now()), this.now() + 2 * RECORDED_EXPIRY_LEAD_MS);
    try {
      await this.inDir(() => writeFileAtomic(path, der, { mode: 0o600, mtimeMs: mtime }));
    } catch (err) {
      throw storeError(this.description, `save staple ${path}`, err);
    }
  }

  /** Run `write` in the directory, creating it again if it was removed while we run. */
  private async inDir<T>(write: () => Promise<T>): Promise<T> {
    await this.ensureDir();
    try {
      return await write();
    } catch (err) {
      if (!isCode(err, 'ENOENT')) throw err;
      this.ready = null;
      await this.ensureDir();
      return write();
    }
  }

  private async deleteNow(key: string): Promise<void> {
    const path = this.file(key);
    await unlink(path).catch((err: unknown) => {
      if (!isCode(err, 'ENOENT')) throw storeError(this.description, `delete staple ${path}`, err);
    });
  }

  private async acquireNow(key: string, ttlMs: number): Promise<Lease | null> {
    const path = this.file(key, LOCK_SUFFIX);
    return this.inDir(() => this.locks.acquire(path, ttlMs));
  }

  /**
   * Remove expired staples, stale locks, old takeover markers and temp files left by interrupted
   * writes. Goes through every entry even when some fail, then reports the first failure.
   */
  async prune(now: number): Promise<number> {
    let names: string[];
    try {
      names = await this.bounded(readdir(this.dir), 'list the directory');
    } catch (err) {
      if (isCode(err, 'ENOENT')) return 0;
      throw storeError(this.description, 'list the directory', err);
    }
    let removed = 0;
    const failures: string[] = [];
    for (const name of names) {
      const path = join(this.dir, name);
      try {
        if (await this.bounded(this.pruneEntry(name, path, now), `prune ${path}`)) removed++;
      } catch (err) {
        // A filesystem that stopped answering will not answer for the next file either.
        if (err instanceof StoreTimeout) throw err;
        failures.push(err instanceof StoreError ? err.message : storeError(this.description, `prune ${path}`, err).message);
      }
    }
    if (failures.length > 0) throw new StoreError(`${failures[0]} (pruning removed ${removed} entries; ${failures.length} could not be pruned)`);
    return removed;
  }

  private async pruneEntry(name: string, path: string, now: number): Promise<boolean> {
    if (STAPLE_NAME.test(name)) return this.pruneStaple(name, path, now);
    if (LOCK_NAME.test(name)) return this.locks.pruneLock(path, now);
    if (MARKER_NAME.test(name)) return (await this.locks.markerIsOld(path, now)) && unlinkIfThere(path);
    if (TEMP_NAME.test(name)) {
      // ctime, not mtime: a staple's temp file already carries its expiry as mtime.
      const info = await lstat(path).catch(missingAsNull);
      return info !== null && info.isFile() && info.ctimeMs + LEFTOVER_AGE_MS < now && unlinkIfThere(path);
    }
    return false;
  }

  private async pruneStaple(name: string, path: string, now: number): Promise<boolean> {
    const info = await lstat(path).catch(missingAsNull);
    if (info === null || !info.isFile() || recordedExpiry(info) >= now) return false;
    // A save may replace the file between our look and the unlink: move it aside first, and put
    // it back if what we moved is not the file we judged (link fails if a newer save is there).
    const aside = tempPathFor(path);
    try {
      await rename(path, aside);
    } catch (err) {
      if (isCode(err, 'ENOENT')) return false;
      throw err;
    }
    const moved = await lstat(aside);
    // The rename changed its ctime, not its inode or mtime.
    if (moved.ino !== info.ino || moved.mtimeMs !== info.mtimeMs) {
      await link(aside, path).catch((err: unknown) => {
        if (!isCode(err, 'EEXIST')) throw err;
      });
      await unlink(aside);
      return false;
    }
    await unlink(aside);
    return true;
  }

  watch(onChange: (key: string) => void): () => void {
    let closed = false;
    const report = (name: string): void => {
      if (!closed && STAPLE_NAME.test(name)) onChange(name.slice(0, -FILE_SUFFIX.length));
    };
    // Reassigned from callbacks: kept in an object so that its type is not narrowed away.
    const live: { watcher: FSWatcher | null } = { watcher: null };
    const startWatch = (): void => {
      if (!this.fsWatch) return;
      try {
        const w = watch(this.dir, { persistent: false }, (_event, name) => {
          if (name) report(name.toString());
        });
        w.on('error', () => {
          w.close();
          live.watcher = null;
        });
        live.watcher = w;
      } catch {
        live.watcher = null; // the directory does not exist yet: the poll covers it, and retries the watch
      }
    };
    void this.ensureDir().then(
      () => {
        if (!closed) startWatch();
      },
      () => undefined,
    );
    // The poll catches what the watch misses (network filesystems, a watch that failed). Every
    // save renames a file into the directory, which changes the directory's mtime: only then
    // are the files looked at, so that 10,000 staples cost one stat per poll.
    // A file's mtime is its expiry, not its write time: a save is seen as a change of inode,
    // size, mtime or ctime (each save renames a new file into place).
    let dirMtime = -1;
    let seen: Map<string, string> | null = null; // null until the first look, which reports nothing
    let polling = false;
    const poll = setInterval(() => {
      if (polling) return; // a slow poll (a huge directory, a slow disk) is not run twice at once
      polling = true;
      void (async () => {
        if (closed) return;
        if (!live.watcher) startWatch();
        const mtime = await stat(this.dir).then(
          (st) => st.mtimeMs,
          () => -1,
        );
        if (mtime === dirMtime) return;
        dirMtime = mtime;
        let names: string[];
        try {
          names = await readdir(this.dir);
        } catch {
          return;
        }
        const current = new Map<string, string>();
        for (const name of names) {
          if (!STAPLE_NAME.test(name)) continue;
          const signature = await stat(join(this.dir, name)).then(
            (s) => `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`,
            () => null,
          );
          if (signature === null) continue;
          current.set(name, signature);
          if (seen !== null && seen.get(name) !== signature) report(name);
        }
        seen = current;
      })().finally(() => {
        polling = false;
      });
    }, this.pollMs);
    poll.unref();
    return () => {
      closed = true;
      clearInterval(poll);
      live.watcher?.close();
    };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

function missingAsNull(err: unknown): null {
  if (isCode(err, 'ENOENT')) return null;
  throw err;
}

async function unlinkIfThere(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (err) {
    if (isCode(err, 'ENOENT')) return false;
    throw err;
  }
}
