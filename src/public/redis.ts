// `stapler/redis`: staples shared by a fleet through Redis, Valkey, Sentinel or Cluster. The
// `redis` package (an optional dependency) loads when the first RedisStore is made.
export { RedisStore, type RedisStoreOptions } from '../store/redis-store.ts';
export type { RedisNode, StoreLogger } from '../store/redis-options.ts';
