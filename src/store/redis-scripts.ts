// The store's Lua scripts: each compare-and-act runs atomically in Redis. They are sent by
// SHA (EVALSHA) and loaded again after a restart or a flush (NOSCRIPT).

import { createHash } from 'node:crypto';
import type { RedisArg, RedisConnection } from './redis-connection.ts';

export interface Script {
  readonly text: string;
  readonly sha: string;
}

function script(text: string): Script {
  return { text, sha: createHash('sha1').update(text).digest('hex') };
}

/**
 * Save a staple unless the stored one is newer. KEYS[1] the staple hash; ARGV der, thisUpdate
 * (ms), expiry (ms since the epoch, PEXPIREAT), channel, key. Returns 1 saved, 0 kept the newer.
 */
export const SAVE_IF_NEWER = script(`
local current = redis.call('HGET', KEYS[1], 'tu')
if current and tonumber(current) > tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'der', ARGV[1], 'tu', ARGV[2])
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1
`);

/**
 * The staple's DER, or -1 when it is larger than ARGV[1] bytes (never read unbounded). Flagged
 * no-writes (Redis >= 7) so that it still runs when Redis is out of memory.
 */
export const LOAD_BOUNDED = script(`#!lua flags=no-writes
local size = redis.call('HSTRLEN', KEYS[1], 'der')
if size > tonumber(ARGV[1]) then return -1 end
return redis.call('HGET', KEYS[1], 'der')
`);

/** Delete and announce. KEYS[1] the staple hash; ARGV channel, key. */
export const DELETE_AND_PUBLISH = script(`
if redis.call('DEL', KEYS[1]) == 1 then redis.call('PUBLISH', ARGV[1], ARGV[2]) end
return 1
`);

/** Extend a lease only if we still hold it. KEYS[1] the lease; ARGV token, ttl (ms). */
export const RENEW_IF_HELD = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`);

/** Delete a lease only if we still hold it. KEYS[1] the lease; ARGV token. */
export const RELEASE_IF_HELD = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

/** Run a script by its SHA, sending its text only when Redis does not know it yet. */
export async function runScript(conn: RedisConnection, what: string, s: Script, keys: readonly string[], args: readonly RedisArg[]): Promise<unknown> {
  const tail = [String(keys.length), ...keys, ...args];
  try {
    return await conn.send(what, keys[0], ['EVALSHA', s.sha, ...tail]);
  } catch (err) {
    if (!(err instanceof Error && err.message.includes('NOSCRIPT'))) throw err;
    return conn.send(what, keys[0], ['EVAL', s.text, ...tail]);
  }
}
