// Where staples live beyond one process's memory. The engine verifies everything it loads
// from a store again before serving it: a store is a cache, never a source of trust.

/** A lease on one certificate's refresh: whoever holds it fetches; the others wait for its result. */
export interface Lease {
  release(): Promise<void>;
}

export interface StapleStore {
  /** A short name for logs and status ("memory", "directory /var/lib/stapler", "redis …"). */
  readonly description: string;
  load(key: string): Promise<Buffer | null>;
  /** Save atomically; `expiresAt` lets a store drop it by itself (files are removed by the engine). */
  save(key: string, der: Buffer, expiresAt: number): Promise<void>;
  delete(key: string): Promise<void>;
  /**
   * Try to become the one fetcher for `key` for up to `ttlMs`. Null: another process holds it
   * (and will save its result); the caller waits for `watch` or retries later.
   */
  acquire(key: string, ttlMs: number): Promise<Lease | null>;
  /** Be told when another process saves or deletes a staple. Returns an unsubscribe function. */
  watch(onChange: (key: string) => void): () => void;
  close(): Promise<void>;
}
