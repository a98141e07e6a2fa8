// The refresh lease in Redis: SET NX PX with a random token, so that only its holder can renew
// or release it (compare-and-act scripts). It saves CA load; it is not a correctness lock (a
// double fetch is harmless, since every host verifies what it serves).

import { randomBytes } from 'node:crypto';
import type { RedisConnection } from './redis-connection.ts';
import { RELEASE_IF_HELD, RENEW_IF_HELD, runScript } from './redis-scripts.ts';
import { StoreError } from './store-files.ts';
import type { Lease } from './store.ts';

/** A lease longer than this is a mistake (the engine's default is 30 s). */
const MAX_LEASE_MS = 24 * 3_600_000;

export async function acquireLease(conn: RedisConnection, leaseKey: string, ttlMs: number): Promise<Lease | null> {
  if (!(Number.isFinite(ttlMs) && ttlMs > 0 && ttlMs <= MAX_LEASE_MS)) {
    throw new StoreError(`${conn.description}: lease TTL must be a positive number of milliseconds up to ${MAX_LEASE_MS}, got ${ttlMs}`);
  }
  const ttl = String(Math.ceil(ttlMs));
  const token = randomBytes(16).toString('hex');
  const reply = await conn.send(`acquire the lease ${leaseKey}`, leaseKey, ['SET', leaseKey, token, 'NX', 'PX', ttl]);
  if (reply === null) return null;
  return {
    renew: async () => (await runScript(conn, `renew the lease ${leaseKey}`, RENEW_IF_HELD, [leaseKey], [token, ttl])) === 1,
    release: async () => {
      await runScript(conn, `release the lease ${leaseKey}`, RELEASE_IF_HELD, [leaseKey], [token]);
    },
  };
}
