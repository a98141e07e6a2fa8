// The library's options: the engine's settings, and the dependencies it may be given instead of
// the defaults the Stapler wires (a directory store, the HTTP fetcher, pino, the system clock).

import type { Clock } from '../engine/clock.ts';
import type { EngineDependencies } from '../engine/engine.ts';
import type { Logger } from '../engine/logger.ts';
import type { EngineSettings } from '../engine/types.ts';
import type { StoreOption } from '../wiring/defaults.ts';

/** Options of `new Stapler(options)`: the engine's settings, plus what replaces the defaults. */
export interface StaplerOptions extends EngineSettings {
  /**
   * Where staples persist. Default: a directory ($STAPLER_STORE_DIR, else a per-user one); 'memory'
   * keeps them in the process; `{ directory }` names one; a redis:// or rediss:// URL shares them
   * with a fleet (two tiers: Redis over the default directory); or any StapleStore.
   */
  readonly store?: StoreOption;
  /** Where log lines go (default: pino on standard error, at $STAPLER_LOG_LEVEL, else info). */
  readonly logger?: Logger;
  /** The time source, for tests (default: the system clock). */
  readonly clock?: Clock;
  /** Replaces the HTTP fetcher, for tests or another transport; `metrics()` does not time it. */
  readonly fetcher?: EngineDependencies['fetcher'];
  /** The jitter source, for tests (default Math.random). */
  readonly random?: () => number;
}
