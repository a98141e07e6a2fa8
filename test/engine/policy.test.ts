// The refresh policy, one rule per test.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_REFRESH_SETTINGS as S, nextRefresh, nextRetry, type CurrentResponse } from '../../src/engine/policy.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 10, 21);

function response(over: Partial<CurrentResponse> = {}): CurrentResponse {
  return { thisUpdate: T0, validUntil: T0 + 4 * DAY, signerNotAfter: T0 + 365 * DAY, fetchedAt: T0 + MIN, maxAgeSeconds: null, ...over };
}

describe('nextRefresh', () => {
  it('is due at thisUpdate + half the validity window', () => {
    const d = nextRefresh(response(), T0 + MIN, S, 0);
    assert.equal(d.at, T0 + 2 * DAY);
    assert.equal(d.rule, 'fraction of validity window');
  });
  it('follows the refresh fraction setting', () => {
    assert.equal(nextRefresh(response(), T0 + MIN, { ...S, refreshFraction: 0.25 }, 0).at, T0 + DAY);
  });
  it('caps the window at the responder certificate notAfter', () => {
    const d = nextRefresh(response({ signerNotAfter: T0 + 2 * DAY }), T0 + MIN, S, 0);
    assert.equal(d.at, T0 + DAY);
    assert.equal(d.rule, 'fraction of window capped at signer notAfter');
  });
  it('refreshes when Cache-Control max-age runs out, if that is earlier', () => {
    const d = nextRefresh(response({ maxAgeSeconds: 3600 }), T0 + MIN, S, 0);
    assert.equal(d.at, T0 + MIN + HOUR);
    assert.equal(d.rule, 'Cache-Control max-age');
    assert.equal(nextRefresh(response({ maxAgeSeconds: 10 * 86_400 }), T0 + MIN, S, 0).at, T0 + 2 * DAY);
  });
  it('never refreshes sooner than the minimum interval after a fetch', () => {
    const d = nextRefresh(response({ validUntil: T0 + 8 * MIN, fetchedAt: T0 + MIN }), T0 + MIN, S, 0);
    assert.equal(d.at, T0 + MIN + S.minIntervalMs);
    assert.equal(d.rule, 'minimum interval');
    const maxAge = nextRefresh(response({ maxAgeSeconds: 0 }), T0 + MIN, S, 0);
    assert.equal(maxAge.at, T0 + MIN + S.minIntervalMs);
  });
  it('unless the staple would expire before the minimum interval: then sooner, but never in a loop', () => {
    const d = nextRefresh(response({ validUntil: T0 + 4 * MIN, fetchedAt: T0 + MIN }), T0 + MIN, S, 0);
    assert.equal(d.at, T0 + 2 * MIN, 'the halfway point stands, before expiry');
    assert.equal(d.rule, 'expires before the minimum interval');
    // Already past halfway: as soon as the floor allows.
    const late = nextRefresh(response({ validUntil: T0 + 4 * MIN, fetchedAt: T0 + 3 * MIN }), T0 + 3 * MIN, S, 0);
    assert.equal(late.at, T0 + 3 * MIN + S.floorMs);
  });
  it('moves earlier by up to the jitter fraction of the window, never later', () => {
    const early = nextRefresh(response(), T0 + MIN, S, 0.999_999);
    assert.ok(early.at < T0 + 2 * DAY);
    assert.ok(early.at >= T0 + 2 * DAY - S.jitterFraction * 4 * DAY);
    const spread = new Set([0.1, 0.5, 0.9].map((r) => nextRefresh(response(), T0 + MIN, S, r).at));
    assert.equal(spread.size, 3);
  });
  it('is never in the past', () => {
    const d = nextRefresh(response(), T0 + 3 * DAY, S, 0);
    assert.equal(d.at, T0 + 3 * DAY + S.floorMs);
  });
  it('an overdue refresh (after a restart) is spread at random over overdueSpreadMs, not all at once', () => {
    const now = T0 + 3 * DAY;
    const at = [0, 0.25, 0.5, 0.999].map((r) => nextRefresh(response(), now, S, r).at);
    assert.deepEqual(
      at.map((a) => Math.round((a - now - S.floorMs) / 1000)),
      [0, 0.25, 0.5, 0.999].map((r) => Math.round((r * S.overdueSpreadMs) / 1000)),
    );
    assert.match(nextRefresh(response(), now, S, 0.5).rule, /overdue: spread/);
  });
  it('but never so late that the retries no longer fit before expiry', () => {
    // One hour left: the spread shrinks to (time left) / triesBeforeExpiry - floor.
    const now = T0 + 4 * DAY - HOUR;
    const latest = nextRefresh(response(), now, S, 0.999_999).at;
    assert.ok(latest <= now + HOUR / S.triesBeforeExpiry, `${(latest - now) / MIN} min`);
    assert.ok(latest > now + S.floorMs);
    // Past the point where any spread fits: as soon as the floor allows.
    assert.equal(nextRefresh(response(), T0 + 4 * DAY - 30_000, S, 0.9).at, T0 + 4 * DAY - 30_000 + S.floorMs);
  });
});

describe('nextRetry', () => {
  const now = T0;
  it('starts at one minute', () => {
    const d = nextRetry(1, null, now, S, 0.5);
    assert.equal(d.at, now + MIN);
    assert.equal(d.rule, 'exponential backoff');
  });
  it('doubles with each failure', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((n) => nextRetry(n, null, now, S, 0.5).at - now),
      [MIN, 2 * MIN, 4 * MIN, 8 * MIN, 16 * MIN],
    );
  });
  it('spreads ±20 %', () => {
    assert.equal(nextRetry(3, null, now, S, 0).at - now, 4 * MIN * 0.8);
    assert.equal(Math.round(nextRetry(3, null, now, S, 0.999_999_9).at - now), Math.round(4 * MIN * 1.2));
  });
  it('is capped at one hour', () => {
    const d = nextRetry(20, null, now, S, 0.5);
    assert.equal(d.at, now + HOUR);
    assert.equal(d.rule, 'backoff at its maximum');
  });
  it('shrinks near expiry so that several tries fit before it', () => {
    const validUntil = now + 2 * HOUR;
    const d = nextRetry(20, validUntil, now, S, 0.5);
    assert.equal(d.at, now + 30 * MIN);
    assert.equal(d.rule, 'backoff capped near expiry');
    // Simulate the tries: at least triesBeforeExpiry-1 of them land before expiry.
    let t = now;
    let tries = 0;
    for (let n = 20; t < validUntil; n++) {
      t = nextRetry(n, validUntil, t, S, 0.5).at;
      if (t < validUntil) tries++;
    }
    assert.ok(tries >= S.triesBeforeExpiry - 1, `${tries} tries before expiry`);
  });
  it('names the cap only when the cap cut the backoff short', () => {
    // Two hours left: the near-expiry cap is 30 min, below the one-hour maximum. A first
    // failure waits one minute, which the cap does not touch.
    assert.equal(nextRetry(1, now + 2 * HOUR, now, S, 0.5).rule, 'exponential backoff');
    assert.equal(nextRetry(1, null, now, S, 0.5).rule, 'exponential backoff');
    assert.equal(nextRetry(7, now + 2 * HOUR, now, S, 0.5).rule, 'backoff capped near expiry');
  });
  it('keeps a floor, so that a failing responder is not hammered', () => {
    const d = nextRetry(20, now + 20_000, now, S, 0.5);
    assert.equal(d.at, now + S.floorMs);
  });
});
