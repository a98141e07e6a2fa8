// The embedded default store: one DER file per certificate in a directory, written atomically.
// Several processes (cluster workers, or two servers on one host) may share the directory:
// a lock file per certificate makes one of them the fetcher, and the others see its result
// through a directory watch, with a poll as the fallback.

import { randomBytes } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, open, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { readFileCapped, writeFileAtomic } from '../io/files.ts';
import type { Lease, StapleStore } from './store.ts';

const KEY_PATTERN = /^[0-9a-f]{64}$/;
const FILE_SUFFIX = '.der';
const LOCK_SUFFIX = '.lock';
/** A staple file larger than this is not read (responses are at most 64 KiB). */
const MAX_FILE_BYTES = 1024 * 1024;

export interface DirectoryStoreOptions {
  /** How often to look for other processes' writes when the directory watch misses them. */
  readonly pollMs?: number;
  /** The clock for lock expiry (injectable for tests; real time otherwise). */
  readonly now?: () => number;
}

interface LockFile {
  readonly token: string;
  readonly pid: number;
  readonly host: string;
  readonly expiresAt: number;
}

export class DirectoryStore implements StapleStore {
  readonly description: string;
  private readonly pollMs: number;
  private readonly now: () => number;
  private ready: Promise<void> | null = null;

  constructor(
    readonly dir: string,
    options: DirectoryStoreOptions = {},
  ) {
    this.description = `directory ${dir}`;
    this.pollMs = options.pollMs ?? 500;
    this.now = options.now ?? Date.now;
  }

  private file(key: string, suffix = FILE_SUFFIX): string {
    // Keys are SHA-256 hex digests: nothing else may become a path.
    if (!KEY_PATTERN.test(key)) throw new Error(`invalid store key "${key}"`);
    return join(this.dir, `${key}${suffix}`);
  }

  private ensureDir(): Promise<void> {
    this.ready ??= mkdir(this.dir, { recursive: true, mode: 0o700 }).then(() => undefined);
    return this.ready;
  }

  async load(key: string): Promise<Buffer | null> {
    const path = this.file(key);
    // A missing file is the common case (a new certificate): no exception for it.
    const exists = await stat(path).then(
      () => true,
      (err: { code?: string }) => {
        if (err.code === 'ENOENT') return false;
        throw err;
      },
    );
    return exists ? readFileCapped(path, MAX_FILE_BYTES) : null;
  }

  /** Files do not expire by themselves; an expired one fails verification when loaded. */
  async save(key: string, der: Buffer, _expiresAt?: number): Promise<void> {
    await this.ensureDir();
    await writeFileAtomic(this.file(key), der, 0o600);
  }

  async delete(key: string): Promise<void> {
    await unlink(this.file(key)).catch(ignoreMissing);
  }

  async acquire(key: string, ttlMs: number): Promise<Lease | null> {
    await this.ensureDir();
    const path = this.file(key, LOCK_SUFFIX);
    const lock: LockFile = { token: randomBytes(12).toString('hex'), pid: process.pid, host: hostname(), expiresAt: this.now() + ttlMs };
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const handle = await open(path, 'wx', 0o600);
        try {
          await handle.writeFile(JSON.stringify(lock));
        } finally {
          await handle.close();
        }
        return { release: () => this.release(path, lock.token) };
      } catch (err) {
        if ((err as { code?: string }).code !== 'EEXIST') throw err;
      }
      // Someone holds it. Take it over only if it is stale: past its expiry, or unreadable and old.
      if (!(await this.isStale(path, ttlMs))) return null;
      await unlink(path).catch(ignoreMissing);
    }
    return null;
  }

  private async isStale(path: string, ttlMs: number): Promise<boolean> {
    try {
      const held = JSON.parse(await readFile(path, 'utf8')) as Partial<LockFile>;
      if (typeof held.expiresAt === 'number') return held.expiresAt < this.now();
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return true;
    }
    // A half-written or corrupt lock: judge it by its age.
    try {
      return (await stat(path)).mtimeMs + ttlMs < this.now();
    } catch {
      return true;
    }
  }

  private async release(path: string, token: string): Promise<void> {
    try {
      const held = JSON.parse(await readFile(path, 'utf8')) as Partial<LockFile>;
      if (held.token !== token) return; // it went stale and someone else holds it now
    } catch {
      return;
    }
    await unlink(path).catch(ignoreMissing);
  }

  watch(onChange: (key: string) => void): () => void {
    let closed = false;
    const seen = new Map<string, number>();
    const report = (name: string): void => {
      if (!closed && name.endsWith(FILE_SUFFIX)) {
        const key = name.slice(0, -FILE_SUFFIX.length);
        if (KEY_PATTERN.test(key)) onChange(key);
      }
    };
    // Reassigned from callbacks: kept in an object so that its type is not narrowed away.
    const live: { watcher: FSWatcher | null } = { watcher: null };
    const startWatch = (): void => {
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
    void this.ensureDir().then(() => {
      if (!closed) startWatch();
    }, () => undefined);
    // The poll catches what the watch misses (network filesystems, a watch that failed). Every
    // save renames a file into the directory, which changes the directory's mtime: only then
    // are the files looked at, so that 10,000 staples cost one stat per poll.
    let dirMtime = -1;
    const poll = setInterval(() => {
      void (async () => {
        if (!live.watcher) startWatch();
        const mtime = await stat(this.dir).then((st) => st.mtimeMs, () => -1);
        if (mtime === dirMtime) return;
        dirMtime = mtime;
        let names: string[];
        try {
          names = await readdir(this.dir);
        } catch {
          return;
        }
        for (const name of names) {
          if (!name.endsWith(FILE_SUFFIX)) continue;
          const mtime = await stat(join(this.dir, name)).then((s) => s.mtimeMs, () => -1);
          const before = seen.get(name);
          seen.set(name, mtime);
          if (before !== undefined && before !== mtime) report(name);
        }
      })();
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

function ignoreMissing(err: unknown): void {
  if ((err as { code?: string }).code !== 'ENOENT') throw err;
}
