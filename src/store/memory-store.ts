// A store that lives and dies with the process: for tests, and for servers that opt out of disk.
// It keeps the same contract as the shared stores: staples expire, leases have a TTL and renew.

import { randomBytes } from 'node:crypto';
import { ownedCopy } from '../ocsp/bytes.ts';
import { keptUntil, type Lease, type StapleStore } from './store.ts';

/** Options of MemoryStore. */
export interface MemoryStoreOptions {
  /** The clock for staple and lease expiry (the engine's clock in tests; real time otherwise). */
  readonly now?: () => number;
}

interface Held {
  readonly token: string;
  readonly ttlMs: number;
  expiresAt: number;
}

/** A store in the process: staples are lost when it exits (tests, or no writable directory). */
export class MemoryStore implements StapleStore {
  readonly description = 'memory';
  private readonly now: () => number;
  private readonly staples = new Map<string, { readonly der: Buffer; readonly keptUntil: number }>();
  private readonly leases = new Map<string, Held>();

  constructor(options: MemoryStoreOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  load(key: string): Promise<Buffer | null> {
    const entry = this.staples.get(key);
    if (entry && entry.keptUntil < this.now()) {
      this.staples.delete(key);
      return Promise.resolve(null);
    }
    return Promise.resolve(entry ? ownedCopy(entry.der) : null);
  }

  /** `expiresAt` is optional here only for callers that predate it; see StapleStore.save. */
  save(key: string, der: Buffer, expiresAt?: number): Promise<void> {
    this.staples.set(key, { der: ownedCopy(der), keptUntil: keptUntil(expiresAt, this.now()) });
    return Promise.resolve();
  }

  delete(key: string): Promise<void> {
    this.staples.delete(key);
    return Promise.resolve();
  }

  acquire(key: string, ttlMs: number): Promise<Lease | null> {
    if (!(Number.isFinite(ttlMs) && ttlMs > 0))
      return Promise.reject(new Error(`memory store: lease TTL must be a positive number of milliseconds, got ${ttlMs}`));
    const current = this.leases.get(key);
    if (current && current.expiresAt >= this.now()) return Promise.resolve(null);
    // Free, or expired (its holder is stuck): it is ours now.
    const held: Held = { token: randomBytes(12).toString('hex'), ttlMs, expiresAt: this.now() + ttlMs };
    this.leases.set(key, held);
    const stillHeld = (): boolean => this.leases.get(key) === held && held.expiresAt >= this.now();
    return Promise.resolve({
      renew: () => {
        if (!stillHeld()) return Promise.resolve(false);
        held.expiresAt = this.now() + held.ttlMs;
        return Promise.resolve(true);
      },
      release: () => {
        if (stillHeld()) this.leases.delete(key);
        return Promise.resolve();
      },
    });
  }

  prune(now: number): Promise<number> {
    let removed = 0;
    for (const [key, entry] of this.staples) {
      if (entry.keptUntil < now) {
        this.staples.delete(key);
        removed++;
      }
    }
    for (const [key, held] of this.leases) {
      if (held.expiresAt < now) {
        this.leases.delete(key);
        removed++;
      }
    }
    return Promise.resolve(removed);
  }

  /** One process: nobody else can change what it holds. */
  watch(): () => void {
    return () => undefined;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
