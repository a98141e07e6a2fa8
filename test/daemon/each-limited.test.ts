// The scan's bounded parallelism: every file is looked at, never more than `limit` at once.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eachLimited } from '../../src/io/each-limited.ts';

describe('eachLimited', () => {
  it('runs every item, at most `limit` at once', async () => {
    let running = 0;
    let most = 0;
    const seen: number[] = [];
    await eachLimited(
      Array.from({ length: 200 }, (_, i) => i),
      5,
      async (i) => {
        running++;
        most = Math.max(most, running);
        await new Promise<void>((resolve) => setImmediate(resolve));
        seen.push(i);
        running--;
      },
    );
    assert.equal(most, 5);
    assert.deepEqual(
      seen.sort((a, b) => a - b),
      Array.from({ length: 200 }, (_, i) => i),
    );
  });
});
