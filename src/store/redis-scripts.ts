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
 * Put a staple, replacing the whole hash. KEYS[1] the staple hash; ARGV der, expiry (ms since the
 * epoch, PEXPIREAT), channel, key, expected, size limit. `expected` is '*' (whatever is there:
 * a save after a verified fetch), '' (nothing is there) or the SHA-1 of the DER the caller read
 * and judged: Redis compares nothing else. Nothing in the hash (anyone may write it) decides
 * what is newer: the engine does, on what it verified. `v` (the DER's SHA-1, computed here) is
 * the version the change feed's poll compares. Returns 1 written, 0 the key changed meanwhile.
 * The shebang (Redis >= 7) makes Redis refuse the whole script when it is out of memory, before
 * the DEL: never a staple deleted and not replaced.
 */
export const PUT_STAPLE = script(`#!lua
if ARGV[5] ~= '*' then
  local seen = ''
  local kind = redis.call('TYPE', KEYS[1]).ok
  if kind == 'hash' and redis.call('HSTRLEN', KEYS[1], 'der') <= tonumber(ARGV[6]) then
    local der = redis.call('HGET', KEYS[1], 'der')
    if der then seen = redis.sha1hex(der) end
  elseif kind ~= 'none' then
    seen = '-'
  end
  if seen ~= ARGV[5] then return 0 end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'der', ARGV[1], 'v', redis.sha1hex(ARGV[1]))
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
`);

/**
 * The staple's DER and version [der, v], nil when there is none, -1 when the DER is larger than
 * ARGV[1] bytes (never read unbounded), -2 when the key is not a hash (not written by a store).
 * Flagged no-writes (Redis >= 7) so that it still runs when Redis is out of memory.
 */
export const LOAD_BOUNDED = script(`#!lua flags=no-writes
local kind = redis.call('TYPE', KEYS[1]).ok
if kind == 'none' then return nil end
if kind ~= 'hash' then return -2 end
if redis.call('HSTRLEN', KEYS[1], 'der') > tonumber(ARGV[1]) then return -1 end
return redis.call('HMGET', KEYS[1], 'der', 'v')
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
