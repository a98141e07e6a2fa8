// The benchmarks' percentile: a true median (the mean of the middle two of an even count).

import assert from 'node:assert/strict';
import { it } from 'node:test';
import { percentile } from '../../bench/support/client.ts';

it('percentile interpolates between the nearest ranks', () => {
  assert.equal(percentile([4, 1, 3, 2, 6, 5], 50), 3.5, 'six rounds: the mean of the middle two');
  assert.equal(percentile([3, 1, 2], 50), 2);
  assert.equal(percentile([1, 2, 3, 4, 5], 0), 1);
  assert.equal(percentile([1, 2, 3, 4, 5], 100), 5);
  assert.equal(percentile([10, 20], 99), 19.9);
  assert.equal(percentile([7], 99), 7);
  assert.ok(Number.isNaN(percentile([], 50)));
});
