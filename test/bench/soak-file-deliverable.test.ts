// bench/soak/operations.ts fileDeliverableSince: the soak holds nginx (which reads staple files)
// to a response from when the daemon could write it, not while the harness kept the staple
// folder immutable.

import assert from 'node:assert/strict';
import { it } from 'node:test';
import { fileDeliverableSince } from '../../bench/soak/operations.ts';

it('a response from within the lead before, or during, an immutable window counts from its end; others from when they came', () => {
  const windows: [number, number | null][] = [[10_000, 20_000]];
  assert.equal(fileDeliverableSince(15_000, windows, 4_000), 20_000, 'came during the window');
  assert.equal(fileDeliverableSince(7_000, windows, 4_000), 20_000, 'came within the lead before it');
  assert.equal(fileDeliverableSince(5_000, windows, 4_000), 5_000, 'came before the lead: on file before the window');
  assert.equal(fileDeliverableSince(20_000, windows, 4_000), 20_000, 'came as it ended');
  assert.equal(fileDeliverableSince(25_000, windows, 4_000), 25_000, 'came after it');
  assert.equal(fileDeliverableSince(15_000, [[10_000, null]], 4_000), null, 'a window still on: not deliverable yet');
});
