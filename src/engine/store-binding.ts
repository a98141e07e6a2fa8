// The engine's store: the store itself, whether it works (logged on transition), its change
// feed and the hourly prune. One object, so that reconfigure() can swap it whole for a new
// store while the staples held in memory stay where they are.

import type { StapleStore } from '../store/store.ts';
import type { Clock, TimerHandle } from './clock.ts';
import type { Logger } from './logger.ts';
import { StoreHealth } from './store-health.ts';

/** How often the store is asked to drop expired staples and stale locks. */
const PRUNE_INTERVAL_MS = 60 * 60_000;

export class StoreBinding {
  readonly health: StoreHealth;
  private readonly unwatch: () => void;
  private pruneTimer: TimerHandle | null = null;
  private detached = false;

  constructor(
    readonly store: StapleStore,
    private readonly clock: Clock,
    private readonly log: Logger,
    onChange: (id: string) => void,
  ) {
    this.health = new StoreHealth(log, store.description);
    this.unwatch = store.watch(onChange);
    this.prune();
  }

  /** Stop watching and pruning (the store itself is closed by whoever retires it). */
  detach(): void {
    if (this.detached) return;
    this.detached = true;
    this.unwatch();
    this.pruneTimer?.cancel();
  }

  /** Ask the store to drop expired staples and stale locks, now and then every hour. */
  private prune(): void {
    if (this.detached) return;
    void this.health
      .attempt('prune', () => this.store.prune(this.clock.now()), 0)
      .then((removed) => {
        if (removed > 0) this.log.debug({ store: this.store.description, removed }, 'removed expired staples and stale locks from the store');
      });
    this.pruneTimer = this.clock.at(this.clock.now() + PRUNE_INTERVAL_MS, () => this.prune());
  }
}

/** Replaced fetchers and stores, each closed once the work that may use it is done. */
export class Retirement {
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly log: Logger) {}

  retire(part: { close(): Promise<void> }, idle: Promise<void>): void {
    const done: Promise<void> = idle
      .then(() => part.close())
      .catch((err: unknown) => this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'closing a replaced fetcher or store failed'))
      .finally(() => this.pending.delete(done));
    this.pending.add(done);
  }

  async settled(): Promise<void> {
    await Promise.all(this.pending);
  }
}
