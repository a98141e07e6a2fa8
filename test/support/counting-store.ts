// A store wrapper for tests that counts loads (by key) and how many are running, passing every
// call through unchanged (loadCopies too, when the store has it).

import type { Lease, StapleStore, StoredCopies } from '../../src/store/store.ts';

export class CountingStore implements StapleStore {
  readonly loads = new Map<string, number>();
  active = 0;
  /** The most loads of one key that ever ran at once. */
  maxActiveOfOneKey = 0;
  private readonly activeByKey = new Map<string, number>();

  constructor(readonly inner: StapleStore) {}

  get description(): string {
    return this.inner.description;
  }

  loadsOf(key: string): number {
    return this.loads.get(key) ?? 0;
  }

  private async counted<T>(key: string, work: () => Promise<T>): Promise<T> {
    this.loads.set(key, this.loadsOf(key) + 1);
    this.active++;
    const mine = (this.activeByKey.get(key) ?? 0) + 1;
    this.activeByKey.set(key, mine);
    this.maxActiveOfOneKey = Math.max(this.maxActiveOfOneKey, mine);
    try {
      return await work();
    } finally {
      this.active--;
      this.activeByKey.set(key, (this.activeByKey.get(key) ?? 1) - 1);
    }
  }

  load(key: string): Promise<Buffer | null> {
    return this.counted(key, () => this.inner.load(key));
  }

  loadCopies(key: string): Promise<StoredCopies> {
    const inner = this.inner;
    if (inner.loadCopies) return this.counted(key, () => inner.loadCopies!(key));
    return this.counted(key, async () => {
      const der = await inner.load(key);
      return { copies: der ? [der] : [], settle: () => Promise.resolve() };
    });
  }

  save(key: string, der: Buffer, expiresAt: number): Promise<void> {
    return this.inner.save(key, der, expiresAt);
  }
  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }
  acquire(key: string, ttlMs: number): Promise<Lease | null> {
    return this.inner.acquire(key, ttlMs);
  }
  prune(now: number): Promise<number> {
    return this.inner.prune(now);
  }
  watch(onChange: (key: string) => void): () => void {
    return this.inner.watch(onChange);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
