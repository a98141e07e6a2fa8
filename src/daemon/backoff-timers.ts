// Per-key retries after 1 s, then every 2 s, one pending per key: the output
// writer retries a failed write, and a push HAProxy refused, each on its own. The cap is short
// because a staple file that cannot be written may leave a server without its staple: once the
// disk or folder is back, the staple must be too (with a doubling delay up to 5 minutes, the soak
// measured 44 s of nginx unstapled after three "unwritable" windows of 6 to 11 s: the retries
// missed the writable moments between them). With many keys failing at once (a full
// disk under 100,000 certificates) the cap grows, so that from their second retry on all of them
// together are retried at most OUTPUT_RETRIES_PER_SECOND times a second (each key's first retry
// stays at 1 s: the first failures come as fast as the writes that failed).

import type { Clock, TimerHandle } from '../engine/clock.ts';

export const OUTPUT_RETRY_INITIAL_MS = 1_000;
export const OUTPUT_RETRY_MAX_MS = 2_000;
export const OUTPUT_RETRIES_PER_SECOND = 500;

/** The delay before the next try of a key that failed `failures` times, while `failingKeys` keys (it too) wait for theirs. */
export function retryDelayMs(failures: number, failingKeys: number): number {
  const cap = Math.max(OUTPUT_RETRY_MAX_MS, (failingKeys * 1000) / OUTPUT_RETRIES_PER_SECOND);
  return Math.min(OUTPUT_RETRY_INITIAL_MS * 2 ** Math.min(failures - 1, 20), cap);
}

interface Retry {
  timer: TimerHandle | null;
  failures: number;
}

export class BackoffTimers<K> {
  private readonly retries = new Map<K, Retry>();

  constructor(private readonly clock: Clock) {}

  /** Run `again` after 1 s, then every 2 s while this key keeps failing (more when many keys fail: the rate bound). */
  schedule(key: K, again: () => void): void {
    let r = this.retries.get(key);
    if (!r) this.retries.set(key, (r = { timer: null, failures: 0 }));
    r.failures++;
    r.timer?.cancel();
    const delay = retryDelayMs(r.failures, this.retries.size);
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
