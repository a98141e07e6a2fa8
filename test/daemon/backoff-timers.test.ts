// The outputs' retries (a staple file that could not be written, a push HAProxy refused): a
// delay of 1 s, then 2 s, so that a server gets its staple back soon after the
// disk or folder is back, and with many keys failing at once, capped so that all of them
// together retry at most OUTPUT_RETRIES_PER_SECOND times a second. On a fake clock.

import assert from 'node:assert/strict';
import { it } from 'node:test';
import { BackoffTimers, OUTPUT_RETRIES_PER_SECOND, OUTPUT_RETRY_INITIAL_MS, OUTPUT_RETRY_MAX_MS, retryDelayMs } from '../../src/daemon/backoff-timers.ts';
import { FakeClock } from '../support/fake-clock.ts';

/** The delays between the tries of one key that keeps failing, `n` of them. */
async function delays(clock: FakeClock, timers: BackoffTimers<string>, key: string, n: number): Promise<number[]> {
  const seen: number[] = [];
  let last = clock.now();
  const fail = (): void => {
    seen.push(clock.now() - last);
    last = clock.now();
    if (seen.length < n) timers.schedule(key, fail);
  };
  timers.schedule(key, fail);
  for (let i = 0; i < n; i++) await clock.advanceTo(clock.nextTimer()!);
  return seen;
}

it('retries after 1 s, then every 2 s, for a key that keeps failing, and starts again from 1 s once it worked', async () => {
  const clock = new FakeClock();
  const timers = new BackoffTimers<string>(clock);
  assert.equal(OUTPUT_RETRY_INITIAL_MS, 1_000);
  assert.equal(OUTPUT_RETRY_MAX_MS, 2_000);
  assert.deepEqual(await delays(clock, timers, 'a', 5), [1_000, 2_000, 2_000, 2_000, 2_000]);
  timers.cancel('a');
  assert.deepEqual(await delays(clock, timers, 'a', 2), [1_000, 2_000]);
  timers.clear();
  assert.equal(clock.nextTimer(), null, 'clear() leaves no timer');
});

it('with many keys failing, the cap grows so that all of them together retry at most OUTPUT_RETRIES_PER_SECOND times a second', () => {
  assert.equal(OUTPUT_RETRIES_PER_SECOND, 500);
  assert.equal(retryDelayMs(1, 100_000), 1_000, 'the first retry is still after 1 s');
  assert.equal(retryDelayMs(30, 1_000), 2_000, 'up to 1,000 keys: the 2 s cap');
  assert.equal(retryDelayMs(30, 6_000), 12_000);
  assert.equal(retryDelayMs(30, 100_000), 200_000, '100,000 keys each every 200 s: 500 a second');
  assert.equal(retryDelayMs(1_000, 1), 2_000, 'no overflow after many failures');
});
