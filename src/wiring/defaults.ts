// The defaults the faces wire into the engine, which chooses none itself: the HTTP fetcher, and
// the store (a directory unless told otherwise).

import type { EngineSettings } from '../engine/types.ts';
import { InputError } from '../ocsp/errors.ts';
import type { Clock } from '../engine/clock.ts';
import type { Logger } from '../engine/logger.ts';
import { HttpFetcher } from '../fetch/http-fetcher.ts';
import { defaultStoreDir } from '../store/default-dir.ts';
import { DirectoryStore } from '../store/directory-store.ts';
import { MemoryStore } from '../store/memory-store.ts';
import { isRedisUrl } from '../store/redis-options.ts';
import { RedisStore } from '../store/redis-store.ts';
import { TieredStore } from '../store/tiered-store.ts';
import type { StapleStore } from '../store/store.ts';

/**
 * Where staples persist, as the library and the daemon name it: a store, { directory }, 'memory',
 * or a redis:// or rediss:// URL.
 */
export type StoreOption = StapleStore | { readonly directory: string } | string;

/** The HTTP fetcher, with the options' timeouts, proxy, size cap, CertID hash and verification settings. */
export function httpFetcherFor(options: EngineSettings): HttpFetcher {
  return new HttpFetcher({
    timeoutMs: options.timeoutMs ?? 5_000,
    deadlineMs: options.deadlineMs ?? 15_000,
    proxy: options.proxy,
    maxResponseBytes: options.maxResponseBytes ?? 64 * 1024,
    hash: options.hash ?? 'sha1',
    verify: {
      ...(options.skewMs !== undefined ? { skewMs: options.skewMs } : {}),
      ...(options.maxAgeWithoutNextUpdateMs !== undefined ? { maxAgeWithoutNextUpdateMs: options.maxAgeWithoutNextUpdateMs } : {}),
      ...(options.allowSha1Signatures !== undefined ? { allowSha1Signatures: options.allowSha1Signatures } : {}),
    },
  });
}

/**
 * The store an option names: 'memory', { directory }, a redis:// or rediss:// URL, an instance,
 * or by default a directory. A memory store keeps the engine's time; a directory keeps real time
 * (file times are real). A Redis URL gives two tiers: Redis over the default directory (when
 * there is one), so that a restart while Redis is down staples from disk.
 */
export function resolveStore(option: StoreOption | undefined, log: Logger, clock?: Clock): StapleStore {
  if (option === 'memory') return new MemoryStore(clock ? { now: () => clock.now() } : {});
  if (typeof option === 'string') {
    if (!isRedisUrl(option))
      throw new InputError(
        'store',
        `"${option.replace(/:[^@/:]*@/, ':***@')}" is not valid: expected 'memory', a redis:// or rediss:// URL, { directory } or a store`,
      );
    const shared = new RedisStore({ url: option, logger: log });
    const dir = defaultStoreDir();
    return dir ? new TieredStore(new DirectoryStore(dir), shared) : shared;
  }
  if (option && 'directory' in option) return new DirectoryStore(option.directory);
  if (option) return option;
  const dir = defaultStoreDir();
  if (dir) return new DirectoryStore(dir);
  log.warn({}, 'no writable directory for staples (set STAPLER_STORE_DIR): keeping them in memory only');
  return new MemoryStore();
}
