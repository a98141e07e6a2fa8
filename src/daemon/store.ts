// The daemon's store: its directory, with the fleet's Redis over it when `store` names one (two
// tiers: a restart while Redis is down still staples from the directory at once).

import type { Logger } from '../engine/logger.ts';
import { DirectoryStore } from '../store/directory-store.ts';
import { RedisStore } from '../store/redis-store.ts';
import type { StapleStore } from '../store/store.ts';
import { TieredStore } from '../store/tiered-store.ts';
import type { DaemonConfig } from './config.ts';

export function daemonStore(config: Pick<DaemonConfig, 'storeDir' | 'store'>, logger: Logger): StapleStore {
  const local = new DirectoryStore(config.storeDir);
  return config.store ? new TieredStore(local, new RedisStore({ ...config.store.options, logger })) : local;
}
