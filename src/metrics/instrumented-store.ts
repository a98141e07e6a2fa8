// A StapleStore decorator that counts failed operations and contended leases, passing every
// call and every error through unchanged (the engine's StoreHealth still decides what to do).

import { copiesOf, type Lease, type StapleStore, type StoredCopies } from '../store/store.ts';

export interface StoreObserver {
  error(operation: string): void;
  contended(): void;
}

export class InstrumentedStore implements StapleStore {
  constructor(
    private readonly inner: StapleStore,
    private readonly observer: StoreObserver,
  ) {}

  get description(): string {
    return this.inner.description;
  }

  load(key: string): Promise<Buffer | null> {
    return this.counted('load', () => this.inner.load(key));
  }

  /** Each tier's copy, for the engine to verify (a store without tiers: its one copy). */
  async loadCopies(key: string): Promise<StoredCopies> {
    const found = await this.counted('load', () => copiesOf(this.inner, key));
    return { copies: found.copies, settle: (chosen, expiresAt, replaceable) => this.counted('save', () => found.settle(chosen, expiresAt, replaceable)) };
  }

  save(key: string, der: Buffer, expiresAt: number): Promise<void> {
    return this.counted('save', () => this.inner.save(key, der, expiresAt));
  }

  delete(key: string): Promise<void> {
    return this.counted('delete', () => this.inner.delete(key));
  }

  async acquire(key: string, ttlMs: number): Promise<Lease | null> {
    const lease = await this.counted('acquire', () => this.inner.acquire(key, ttlMs));
    if (lease === null) {
      this.observer.contended();
      return null;
    }
    return {
      renew: () => this.counted('renew', () => lease.renew()),
      release: () => this.counted('release', () => lease.release()),
    };
  }

  prune(now: number): Promise<number> {
    return this.counted('prune', () => this.inner.prune(now));
  }

  watch(onChange: (key: string) => void): () => void {
    return this.inner.watch(onChange);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private async counted<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      this.observer.error(operation);
      throw err;
    }
  }
}
