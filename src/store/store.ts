// Where staples live beyond one process's memory. The engine verifies everything it loads
// from a store again before serving it: a store is a cache, never a source of trust. A store
// with tiers (a host's directory under the fleet's Redis) shows the engine every tier's copy, and
// writes one back only once the engine has verified it and chosen it (loadCopies).

/** A lease on one certificate's refresh: whoever holds it fetches; the others wait for its result. */
export interface Lease {
  /**
   * Extend the lease by its TTL, counted from now. False when it is no longer held: it expired
   * (and may have been taken over) or it was released. A store that fails throws.
   */
  renew(): Promise<boolean>;
  /** Give the lease up. Does nothing if it expired or another process has taken it over. */
  release(): Promise<void>;
}

/** What a store holds for one key, for the caller (who knows the certificate) to verify and choose from. */
export interface StoredCopies {
  /** The distinct copies found: one per tier that holds one, the host's own tier first. */
  readonly copies: readonly Buffer[];
  /**
   * Put `chosen` (a staple the caller verified) on each tier that held nothing or a copy that
   * `replaceable` says may go (one the caller found older, or unacceptable), unless that tier
   * changed since it was read. Nothing the caller did not choose is ever written.
   */
  settle(chosen: Buffer, expiresAt: number, replaceable: (copy: Buffer) => boolean): Promise<void>;
}

/** Where staples persist and how processes share them: every store implements this contract. */
export interface StapleStore {
  /** A short name for logs and status ("memory", "directory /var/lib/stapler", "redis …"). */
  readonly description: string;
  /**
   * The stored staple, or null when there is none or it is past the `expiresAt` it was saved with.
   * Never hangs and never reads more than a bounded size; a store that fails throws an Error that
   * names the store, the item and the reason.
   */
  load(key: string): Promise<Buffer | null>;
  /**
   * Every tier's copy, unjudged (see StoredCopies). Optional: the engine reads a store without it
   * through `load`. A tier that fails is left out while another answers; a store that fails throws.
   */
  loadCopies?(key: string): Promise<StoredCopies>;
  /**
   * Save atomically. The store drops the staple by itself once `expiresAt` (ms since the epoch)
   * has passed; an `expiresAt` that is not a positive number means "unknown", and the staple is
   * then kept for UNKNOWN_EXPIRY_MS from the save.
   */
  save(key: string, der: Buffer, expiresAt: number): Promise<void>;
  delete(key: string): Promise<void>;
  /**
   * Try to become the one fetcher for `key` for up to `ttlMs`. Null: another process holds it
   * (and will save its result); the caller waits for `watch` or retries later. A store that
   * fails throws at once (the caller should then fetch anyway).
   */
  acquire(key: string, ttlMs: number): Promise<Lease | null>;
  /**
   * Remove what is past its time: staples past their expiry, expired or corrupt leases, and
   * leftovers of interrupted writes. Returns how many entries were removed.
   */
  prune(now: number): Promise<number>;
  /** Be told when another process saves or deletes a staple. Returns an unsubscribe function. */
  watch(onChange: (key: string) => void): () => void;
  close(): Promise<void>;
}

/** How long a staple saved without a known expiry is kept: the longest validity CAs may give (BR: 10 days). */
export const UNKNOWN_EXPIRY_MS = 10 * 24 * 3600 * 1000;

/** The instant a staple saved at `now` with `expiresAt` stops being kept. */
export function keptUntil(expiresAt: number | undefined, now: number): number {
  return expiresAt !== undefined && Number.isFinite(expiresAt) && expiresAt > 0 ? expiresAt : now + UNKNOWN_EXPIRY_MS;
}

/**
 * A lease whose expiry is further ahead than this many TTLs was not written by a sane holder
 * (a clock set years ahead, a corrupt file): it is treated as stale.
 */
export const MAX_LEASE_TTLS_AHEAD = 10;

/** A single tier's copy: settle writes `chosen` where it held nothing, or a copy the caller lets go. */
export function oneCopy(read: Buffer | null, write: (chosen: Buffer, expiresAt: number) => Promise<unknown>): StoredCopies {
  return {
    copies: read ? [read] : [],
    settle: async (chosen, expiresAt, replaceable) => {
      if (read && (read.equals(chosen) || !replaceable(read))) return;
      await write(chosen, expiresAt);
    },
  };
}

/** `store`'s copies: through loadCopies, or `load` for a store without tiers (nothing to settle). */
export async function copiesOf(store: StapleStore, key: string): Promise<StoredCopies> {
  if (store.loadCopies) return store.loadCopies(key);
  const der = await store.load(key);
  return { copies: der ? [der] : [], settle: () => Promise.resolve() };
}
