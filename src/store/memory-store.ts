// A store that lives and dies with the process: for tests, and for servers that opt out of disk.

import { ownedCopy } from '../ocsp/bytes.ts';
import type { Lease, StapleStore } from './store.ts';

export class MemoryStore implements StapleStore {
  readonly description = 'memory';
  private readonly staples = new Map<string, Buffer>();
  private readonly leases = new Set<string>();

  load(key: string): Promise<Buffer | null> {
    return Promise.resolve(this.staples.get(key) ?? null);
  }

  save(key: string, der: Buffer): Promise<void> {
    this.staples.set(key, ownedCopy(der));
    return Promise.resolve();
  }

  delete(key: string): Promise<void> {
    this.staples.delete(key);
    return Promise.resolve();
  }

  acquire(key: string): Promise<Lease | null> {
    if (this.leases.has(key)) return Promise.resolve(null);
    this.leases.add(key);
    return Promise.resolve({
      release: () => {
        this.leases.delete(key);
        return Promise.resolve();
      },
    });
  }

  /** One process: nobody else can change what it holds. */
  watch(): () => void {
    return () => undefined;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
