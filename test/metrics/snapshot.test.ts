// The scrape's reading of every certificate: it lets the event loop run when a slice has used its
// time budget (not after a fixed count), so a loaded machine gets shorter slices. Time is an
// injected clock, advanced by the test, never slept on.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CertificateStatus } from '../../src/engine/types.ts';
import { readSnapshot } from '../../src/metrics/snapshot.ts';

const COUNT = 6_400;

function* statuses(n: number): IterableIterator<CertificateStatus> {
  for (let i = 0; i < n; i++) {
    yield {
      state: 'stapled',
      verdict: 'OK',
      responders: ['http://ocsp.example.com/'],
      atRisk: false,
      outputs: [],
      serving: true,
      validUntil: 1_000_000 + i,
    } as unknown as CertificateStatus;
  }
}

/** Read `COUNT` statuses with `now`, counting the event-loop turns that ran meanwhile. */
async function readCountingTurns(now: () => number): Promise<{ turns: number; stapled: number }> {
  let turns = 0;
  let reading = true;
  const tick = (): void => {
    turns++;
    if (reading) setImmediate(tick);
  };
  setImmediate(tick);
  const snap = await readSnapshot(statuses(COUNT), {}, { ms: 10, now });
  reading = false;
  return { turns, stapled: snap.byState.get('stapled')! };
}

describe('the scrape reading', () => {
  it('lets the event loop run each time a slice has spent its time budget', async () => {
    let t = 0;
    const { turns, stapled } = await readCountingTurns(() => (t += 1));
    assert.equal(stapled, COUNT);
    // A look at the clock every 64 statuses, 1 ms each: a turn about every 640 statuses.
    assert.ok(turns >= 8, `${turns} turns`);
  });
  it('does not stop for a turn while the budget lasts, however many statuses it has read', async () => {
    const { turns, stapled } = await readCountingTurns(() => 0);
    assert.equal(stapled, COUNT);
    assert.equal(turns, 0);
  });
});
