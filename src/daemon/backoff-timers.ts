// Per-key retries after a doubling delay (1 s up to 5 min), one pending per key: the output
// writer retries a failed write, and a push HAProxy refused, each on its own.

import type { Clock, TimerHandle } from '../engine/clock.ts';

export const OUTPUT_RETRY_INITIAL_MS = 1_000;
export const OUTPUT_RETRY_MAX_MS = 5 * 60_000;

interface Retry {
  timer: TimerHandle | null;
  failures: number;
}

export class BackoffTimers<K> {
  private readonly retries = new Map<K, Retry>();

  constructor(private readonly clock: Clock) {}

  /** Run `again` after a delay that doubles with each failure of this key (bounded by OUTPUT_RETRY_MAX_MS). */
  schedule(key: K, again: () => void): void {
    let r = this.retries.get(key);
    if (!r) this.retries.set(key, (r = { timer: null, failures: 0 }));
    r.failures++;
    r.timer?.cancel();
    const delay = Math.min(OUTPUT_RETRY_INITIAL_MS * 2 ** Math.min(r.failures - 1, 20), OUTPUT_RETRY_MAX_MS);
    const retry = r;
    retry.timer = this.clock.at(this.clock.now() + delay, () => {
      retry.timer = null;
      again();
    });
  }

  /** The key worked (or is forgotten): no retry pending, and the next failure starts from the shortest delay. */
  cancel(key: K): void {
    this.retries.get(key)?.timer?.cancel();
    this.retries.delete(key);
  }

  clear(): void {
    for (const r of this.retries.values()) r.timer?.cancel();
    this.retries.clear();
  }
}
