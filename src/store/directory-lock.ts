// Lease files for the directory store: `<key>.lock` holds {token, pid, host, expiresAt, ttlMs}.
//
// - A lock appears with its content in one step: a temp file is written, then hard-linked to the
//   lock path, which fails if a lock exists. No empty or half-written lock is ever visible.
// - A stale lock (expired, dated absurdly far ahead, or corrupt and old) of generation T (its
//   token, or a digest of a corrupt file) is taken over only by the one process that creates
//   the marker `<key>.lock.<T>.takeover` first (exclusive create); it then renames its own lock
//   over the stale one. The others lose the marker race and get null: one fetcher per expiry.
// - Markers are removed by the prune once older than their lease's TTL (at least 10 minutes).
// A double fetch is harmless (everything fetched is verified): the lease saves load on the CA,
// it is not a correctness lock, so the small windows left (a release racing a takeover at the
// very instant of expiry) are accepted.

import { createHash, randomBytes } from 'node:crypto';
import { link, open, rename, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { tempPathFor } from '../io/files.ts';
import { isCode, readRegular, storeError, StoreError, UnusableFile } from './store-files.ts';
import { MAX_LEASE_TTLS_AHEAD, type Lease } from './store.ts';

export const LOCK_SUFFIX = '.lock';
export const MARKER_SUFFIX = '.takeover';
const TOKEN_PATTERN = /^[0-9a-f]{24}$/;
const MAX_LOCK_BYTES = 4096;
/** How long a marker is kept at least, whatever its lease's TTL. */
const MIN_MARKER_KEEP_MS = 10 * 60 * 1000;
/** The TTL assumed for a lock or marker whose own is unreadable. */
const UNKNOWN_TTL_MS = 60 * 60 * 1000;
/** How far ahead a lock's own TTL may date it, at most (unless our own TTL allows more). */
const MAX_AHEAD_MS = 24 * 60 * 60 * 1000;

interface LockContent {
  readonly token: string;
  readonly pid: number;
  readonly host: string;
  readonly expiresAt: number;
  readonly ttlMs: number;
}

/** A lock as read: locks written by earlier versions have no TTL. */
type ReadLock = Omit<LockContent, 'ttlMs'> & { readonly ttlMs: number | undefined };

/** What is at a lock path: its generation, and whether it may be taken over. */
interface Seen {
  readonly generation: string;
  readonly stale: boolean;
}

export class LockFiles {
  constructor(
    private readonly store: string,
    private readonly now: () => number,
  ) {}

  async acquire(path: string, ttlMs: number): Promise<Lease | null> {
    if (!(Number.isFinite(ttlMs) && ttlMs > 0)) throw new StoreError(`${this.store}: lease TTL must be a positive number of milliseconds, got ${ttlMs}`);
    // A lock that vanishes between our steps (released) sends us round again, a bounded number of times.
    for (let attempt = 0; attempt < 3; attempt++) {
      const mine = this.content(randomBytes(12).toString('hex'), ttlMs);
      if (await this.create(path, mine)) return this.lease(path, mine);
      const seen = await this.inspect(path, ttlMs);
      if (seen === null) continue;
      if (!seen.stale) return null;
      if (!(await this.claim(path, seen.generation, ttlMs))) return null;
      // We own generation T's takeover. Make sure T is still what is there (it may have been
      // released and created afresh since we looked), then replace it.
      const again = await this.inspect(path, ttlMs);
      if (again === null) continue;
      if (again.generation !== seen.generation) return null;
      await this.replace(path, mine);
      return this.lease(path, mine);
    }
    return null;
  }

  /** Remove a stale lock (by the same takeover rule, so it never races a taker). True if removed. */
  async pruneLock(path: string, now: number): Promise<boolean> {
    const seen = await this.inspect(path, undefined, now);
    if (seen === null || !seen.stale) return false;
    if (!(await this.claim(path, seen.generation, UNKNOWN_TTL_MS))) return false;
    const again = await this.inspect(path, undefined, now);
    if (again === null || again.generation !== seen.generation) return false;
    await unlink(path).catch((err: unknown) => {
      if (!isCode(err, 'ENOENT')) throw err;
    });
    return true;
  }

  /** A marker may go once older than its lease's TTL (and MIN_MARKER_KEEP_MS). */
  async markerIsOld(path: string, now: number): Promise<boolean> {
    let file;
    try {
      file = await readRegular(path, 64);
    } catch (err) {
      if (err instanceof UnusableFile) return false; // not ours to remove
      throw err;
    }
    if (file === null) return false;
    const ttl = Number(file.data.toString('utf8'));
    const keep = Math.max(Number.isFinite(ttl) && ttl > 0 ? ttl : UNKNOWN_TTL_MS, MIN_MARKER_KEEP_MS);
    return file.info.mtimeMs + keep < now;
  }

  private content(token: string, ttlMs: number): LockContent {
    return { token, pid: process.pid, host: hostname(), expiresAt: this.now() + ttlMs, ttlMs };
  }

  private lease(path: string, first: LockContent): Lease {
    let held: LockContent | null = first;
    return {
      renew: async () => {
        if (held === null || held.expiresAt < this.now()) return false;
        const seen = await this.inspect(path, held.ttlMs);
        if (seen === null || seen.generation !== held.token) return false;
        const next = this.content(held.token, held.ttlMs);
        await this.replace(path, next);
        held = next;
        return true;
      },
      release: async () => {
        const mine = held;
        held = null;
        // Past our expiry the lock may be someone else's by now: leave it to them, or to a takeover.
        if (mine === null || mine.expiresAt < this.now()) return;
        const seen = await this.inspect(path, mine.ttlMs);
        if (seen?.generation !== mine.token) return;
        await unlink(path).catch((err: unknown) => {
          if (!isCode(err, 'ENOENT')) throw storeError(this.store, `release lock ${path}`, err);
        });
      },
    };
  }

  /**
   * Read the lock at `path`: null if there is none. A lock path that is not a regular file (a
   * directory, a FIFO) is an error, never a lock held forever.
   */
  private async inspect(path: string, ttlMs: number | undefined, now = this.now()): Promise<Seen | null> {
    let file;
    try {
      file = await readRegular(path, MAX_LOCK_BYTES);
    } catch (err) {
      if (err instanceof UnusableFile) throw new StoreError(`${this.store}: lock ${err.message}; remove it`);
      throw storeError(this.store, `read lock ${path}`, err);
    }
    if (file === null) return null;
    const parsed = file.truncated ? null : parseLock(file.data);
    if (parsed) {
      // A lock dated further ahead than any sane holder would write is corrupt, hence stale:
      // more than 10 of our TTLs, or 10 of its holder's own (which may be longer), up to a day.
      const ownTtl = parsed.ttlMs ?? (ttlMs === undefined ? UNKNOWN_TTL_MS : 0);
      const ahead = Math.max(MAX_LEASE_TTLS_AHEAD * (ttlMs ?? 0), Math.min(MAX_LEASE_TTLS_AHEAD * ownTtl, MAX_AHEAD_MS));
      const stale = parsed.expiresAt < now || parsed.expiresAt > now + ahead;
      return { generation: parsed.token, stale };
    }
    // Corrupt, empty (left by an older version or a full disk) or oversized: judge it by its age.
    const ttl = ttlMs ?? UNKNOWN_TTL_MS;
    const age = now - file.info.mtimeMs;
    const digest = createHash('sha256').update(`${file.info.ino}:${file.info.size}:${file.info.mtimeMs}:`).update(file.data).digest('hex');
    return { generation: `c${digest.slice(0, 23)}`, stale: age > ttl || -age > MAX_LEASE_TTLS_AHEAD * ttl };
  }

  /** Create the takeover marker of `generation`; false if another process did first. */
  private async claim(path: string, generation: string, ttlMs: number): Promise<boolean> {
    const marker = `${path}.${generation}${MARKER_SUFFIX}`;
    let handle;
    try {
      handle = await open(marker, 'wx', 0o600);
    } catch (err) {
      if (isCode(err, 'EEXIST')) return false;
      throw storeError(this.store, `create takeover marker ${marker}`, err);
    }
    // The TTL tells the prune how long to keep the marker; if it cannot be written, the prune keeps it an hour.
    await handle.writeFile(String(ttlMs)).catch(() => undefined);
    await handle.close();
    return true;
  }

  /** Create the lock with its content in one step (link fails if one exists). False if one exists. */
  private async create(path: string, content: LockContent): Promise<boolean> {
    const temp = await this.writeTemp(path, content);
    try {
      await link(temp, path);
      return true;
    } catch (err) {
      if (isCode(err, 'EEXIST')) return false;
      throw storeError(this.store, `create lock ${path}`, err);
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  /** Replace the lock at `path` with `content` atomically (rename over it). */
  private async replace(path: string, content: LockContent): Promise<void> {
    const temp = await this.writeTemp(path, content);
    try {
      await rename(temp, path);
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      throw storeError(this.store, `replace lock ${path}`, err);
    }
  }

  private async writeTemp(path: string, content: LockContent): Promise<string> {
    const temp = tempPathFor(path);
    let handle;
    try {
      handle = await open(temp, 'wx', 0o600);
    } catch (err) {
      throw storeError(this.store, `create ${temp}`, err);
    }
    try {
      await handle.writeFile(JSON.stringify(content));
    } catch (err) {
      await handle.close().catch(() => undefined);
      await unlink(temp).catch(() => undefined);
      throw storeError(this.store, `write ${temp}`, err);
    }
    await handle.close();
    return temp;
  }
}

function parseLock(data: Buffer): ReadLock | null {
  let value: unknown;
  try {
    value = JSON.parse(data.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  if (typeof v.token !== 'string' || !TOKEN_PATTERN.test(v.token)) return null;
  if (typeof v.expiresAt !== 'number' || !Number.isFinite(v.expiresAt)) return null;
  const ttlMs = typeof v.ttlMs === 'number' && Number.isFinite(v.ttlMs) && v.ttlMs > 0 ? v.ttlMs : undefined;
  return { token: v.token, pid: Number(v.pid), host: String(v.host), expiresAt: v.expiresAt, ttlMs };
}
