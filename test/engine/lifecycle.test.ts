// The lifecycle's rules as tables: (state, event, now) → (state, effects). Pure, so no clock, no
// fetcher, no store: each row is one promise the product makes.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { INITIAL_LIFECYCLE, isDue, step, type Effect, type Lifecycle, type LifecycleEvent, type Staple, type StepContext } from '../../src/engine/lifecycle.ts';
import { DEFAULT_REFRESH_SETTINGS as S } from '../../src/engine/policy.ts';
import type { Acceptable } from '../../src/ocsp/verify.ts';
import { acceptable } from '../support/verdicts.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);

function staple(over: Partial<Acceptable> & { tag?: string; source?: 'fetch' | 'store'; fetchedAt?: number } = {}): Staple {
  const { tag, source, fetchedAt, ...fields } = over;
  const verdict = acceptable(NOW, fields);
  const { thisUpdate, validUntil } = verdict;
  // Distinct bytes per distinct response: what the rules compare for "the same response".
  const der = Buffer.from(`${tag ?? ''}|${verdict.certStatus}|${thisUpdate}|${validUntil}|${String(verdict.revocationReason)}`);
  return { der, verdict, fetchedAt: fetchedAt ?? NOW, maxAgeSeconds: null, source: source ?? 'fetch' };
}

const revoked = (over: Partial<Acceptable> = {}): Staple => staple({ certStatus: 'revoked', revocationTime: NOW - DAY, revocationReason: 1, ...over });

function ctx(over: Partial<StepContext> = {}): StepContext {
  return { now: NOW, settings: S, random: 0, mustStaple: false, leaseTtlMs: 30_000, ...over };
}

function with_(over: Partial<Lifecycle>): Lifecycle {
  return { ...INITIAL_LIFECYCLE, ...over };
}

const kinds = (effects: readonly Effect[]): string[] =>
  effects.map((e) => (e.type === 'emit' ? `emit:${e.event}` : e.type === 'log' ? `log:${e.level}` : e.type));

describe('lifecycle: an acceptable response offered', () => {
  const rows: [string, Staple | null, LifecycleEvent, 'replaced' | 'kept', string[]][] = [
    [
      'a first fetched response is stapled, saved and announced',
      null,
      { type: 'fetched', staple: staple() },
      'replaced',
      ['arm-expiry', 'save', 'log:info', 'emit:updated'],
    ],
    [
      'a newer fetched response replaces the staple',
      staple(),
      { type: 'fetched', staple: staple({ thisUpdate: NOW - MIN }) },
      'replaced',
      ['arm-expiry', 'save', 'log:info', 'emit:updated'],
    ],
    ['an older fetched response never replaces a newer one', staple({ thisUpdate: NOW - MIN }), { type: 'fetched', staple: staple() }, 'kept', ['log:debug']],
    ['the same response again changes nothing but the schedule', staple(), { type: 'fetched', staple: staple() }, 'kept', ['log:debug']],
    [
      'a re-signed response with the same thisUpdate replaces it',
      staple(),
      { type: 'fetched', staple: staple({ tag: 're-signed' }) },
      'replaced',
      ['arm-expiry', 'save', 'log:info', 'emit:updated'],
    ],
    ['good never lifts a revocation', revoked(), { type: 'fetched', staple: staple({ thisUpdate: NOW - MIN }) }, 'kept', ['log:warn']],
    [
      'good lifts certificateHold',
      revoked({ revocationReason: 6 }),
      { type: 'fetched', staple: staple({ thisUpdate: NOW - MIN }) },
      'replaced',
      ['arm-expiry', 'save', 'log:info', 'emit:updated'],
    ],
    [
      'a revocation replaces good, and is raised',
      staple(),
      { type: 'fetched', staple: revoked({ thisUpdate: NOW - MIN }) },
      'replaced',
      ['arm-expiry', 'save', 'log:info', 'emit:updated', 'log:error', 'emit:revoked'],
    ],
    [
      'a newer revocation is not raised twice',
      revoked(),
      { type: 'fetched', staple: revoked({ thisUpdate: NOW - MIN }) },
      'replaced',
      ['arm-expiry', 'save', 'log:info', 'emit:updated'],
    ],
    [
      'a stored response is stapled, not saved back',
      null,
      { type: 'loaded', staple: staple({ source: 'store' }) },
      'replaced',
      ['arm-expiry', 'log:info', 'emit:updated'],
    ],
    ['a stored response with the same thisUpdate adds nothing', staple(), { type: 'loaded', staple: staple({ tag: 'other', source: 'store' }) }, 'kept', []],
    ['an older stored response is ignored', staple({ thisUpdate: NOW - MIN }), { type: 'loaded', staple: staple({ source: 'store' }) }, 'kept', []],
    ['a stored good never lifts a revocation', revoked(), { type: 'loaded', staple: staple({ thisUpdate: NOW - MIN, source: 'store' }) }, 'kept', []],
  ];
  for (const [rule, current, event, outcome, effects] of rows) {
    it(rule, () => {
      const before = with_({ staple: current, attempted: current !== null });
      const { state, effects: got } = step(before, event, ctx());
      const offered = (event as { staple: Staple }).staple;
      assert.equal(state.staple, outcome === 'replaced' ? offered : current);
      assert.deepEqual(kinds(got), effects);
      assert.equal(state.attempted, true);
    });
  }

  it('a success resets the failure streak, even when its response is not used', () => {
    const before = with_({ staple: revoked(), failures: 3, lastError: { reason: 'fetch-timeout', message: 'x', at: NOW - MIN } });
    const { state } = step(before, { type: 'fetched', staple: staple({ thisUpdate: NOW - MIN }) }, ctx());
    assert.equal(state.failures, 0);
    assert.equal(state.lastError, null);
    assert.equal(state.staple, before.staple);
  });
  it('plans the next refresh from the staple kept, timed from the fetch that just happened', () => {
    const kept = staple({ thisUpdate: NOW - HOUR, validUntil: NOW - HOUR + 4 * DAY });
    const { state } = step(with_({ staple: kept }), { type: 'fetched', staple: staple({ thisUpdate: NOW - 2 * HOUR }) }, ctx());
    assert.deepEqual(state.nextRefresh, { at: NOW - HOUR + 2 * DAY, rule: 'fraction of validity window' });
  });
  it('arms the expiry at the end of the new staple, and saves it until then', () => {
    const next = staple({ validUntil: NOW + 3 * DAY });
    const { effects } = step(INITIAL_LIFECYCLE, { type: 'fetched', staple: next }, ctx());
    assert.deepEqual(effects[0], { type: 'arm-expiry', at: NOW + 3 * DAY });
    assert.deepEqual(effects[1], { type: 'save', der: next.der, expiresAt: NOW + 3 * DAY });
  });
});

describe('lifecycle: a failed refresh', () => {
  const failed: LifecycleEvent = { type: 'fetch-failed', reason: 'try-later', message: 'responder said tryLater' };
  const rows: [string, Lifecycle, Partial<StepContext>, string[], string][] = [
    ['keeps the staple, counts, and retries after one minute', with_({ staple: staple() }), {}, ['log:warn', 'emit:refreshFailed'], 'exponential backoff'],
    ['doubles the wait with each failure', with_({ staple: staple(), failures: 2 }), {}, ['log:warn', 'emit:refreshFailed'], 'exponential backoff'],
    [
      'caps the wait near expiry so that several tries fit',
      with_({ staple: staple({ validUntil: NOW + 2 * MIN }), failures: 5 }),
      {},
      ['log:warn', 'emit:refreshFailed'],
      'backoff capped near expiry',
    ],
    [
      'a Must-Staple certificate without a staple is at risk',
      INITIAL_LIFECYCLE,
      { mustStaple: true },
      ['log:warn', 'emit:refreshFailed', 'log:error', 'emit:mustStapleAtRisk'],
      'exponential backoff',
    ],
    [
      'a Must-Staple certificate whose staple outlives the retry is not',
      with_({ staple: staple() }),
      { mustStaple: true },
      ['log:warn', 'emit:refreshFailed'],
      'exponential backoff',
    ],
  ];
  for (const [rule, before, over, effects, retryRule] of rows) {
    it(rule, () => {
      const { state, effects: got } = step(before, failed, ctx(over));
      assert.equal(state.staple, before.staple, 'a failure never touches the staple');
      assert.equal(state.failures, before.failures + 1);
      assert.equal(state.fetchFailures, before.fetchFailures + 1);
      assert.deepEqual(state.lastError, { reason: 'try-later', message: 'responder said tryLater', at: NOW });
      assert.deepEqual(kinds(got), effects);
      assert.equal(state.nextRefresh?.rule, retryRule);
    });
  }
  it('the first retry comes one minute later, the third four minutes later (random 0.5: no jitter)', () => {
    assert.equal(step(INITIAL_LIFECYCLE, failed, ctx({ random: 0.5 })).state.nextRefresh?.at, NOW + MIN);
    assert.equal(step(with_({ failures: 2 }), failed, ctx({ random: 0.5 })).state.nextRefresh?.at, NOW + 4 * MIN);
  });
  it('a Must-Staple staple that will expire before the retry is at risk', () => {
    const before = with_({ staple: staple({ validUntil: NOW + 5_000 }), failures: 0 }); // the retry cannot come before the 10 s floor
    const { effects } = step(before, failed, ctx({ mustStaple: true }));
    assert.deepEqual(kinds(effects), ['log:warn', 'emit:refreshFailed', 'log:error', 'emit:mustStapleAtRisk']);
  });
});

describe('lifecycle: expiry', () => {
  it('drops the staple at its end, announces it, and makes a try due now', () => {
    const before = with_({ staple: staple({ validUntil: NOW }), nextRefresh: { at: NOW + HOUR, rule: 'x' }, lastFetchAt: NOW - HOUR });
    const { state, effects } = step(before, { type: 'expired' }, ctx());
    assert.equal(state.staple, null);
    assert.deepEqual(state.nextRefresh, { at: NOW, rule: 'the staple expired' });
    assert.deepEqual(kinds(effects), ['log:warn', 'emit:expired']);
  });
  it('keeps an earlier try that is already planned', () => {
    const planned = { at: NOW - 1, rule: 'exponential backoff' };
    const { state } = step(with_({ staple: staple({ validUntil: NOW }), nextRefresh: planned }), { type: 'expired' }, ctx());
    assert.equal(state.nextRefresh, planned);
  });
  it('never tries closer than the floor to the last fetch', () => {
    const { state } = step(with_({ staple: staple({ validUntil: NOW }), lastFetchAt: NOW - 1_000 }), { type: 'expired' }, ctx());
    assert.equal(state.nextRefresh?.at, NOW - 1_000 + S.floorMs);
  });
  it('starts the backoff again: retries crowded in before expiry do not leave it an hour from its next try', () => {
    const before = with_({ staple: staple({ validUntil: NOW }), failures: 12, lastFetchAt: NOW - HOUR });
    const gone = step(before, { type: 'expired' }, ctx());
    assert.equal(gone.state.failures, 12, 'the streak is still reported');
    const failed = step(gone.state, { type: 'fetch-failed', reason: 'fetch-network', message: 'refused' }, ctx({ random: 0.5 }));
    assert.equal(failed.state.nextRefresh?.at, NOW + MIN, 'one minute, as for a first failure');
    assert.equal(failed.state.failures, 13);
    const later = step(failed.state, { type: 'fetch-failed', reason: 'fetch-network', message: 'refused' }, ctx({ random: 0.5 }));
    assert.equal(later.state.nextRefresh?.at, NOW + 2 * MIN, 'then doubling');
    const success = step(later.state, { type: 'fetched', staple: staple() }, ctx());
    assert.equal(success.state.backoffFrom, 0);
  });
  it('a Must-Staple certificate is at risk once its staple is gone', () => {
    const { effects } = step(with_({ staple: staple({ validUntil: NOW }) }), { type: 'expired' }, ctx({ mustStaple: true }));
    assert.deepEqual(kinds(effects), ['log:warn', 'emit:expired', 'log:error', 'emit:mustStapleAtRisk']);
  });
  const noops: [string, Lifecycle][] = [
    ['a timer that fires before the end changes nothing', with_({ staple: staple({ validUntil: NOW + 1 }) })],
    ['a timer for a staple already gone changes nothing', INITIAL_LIFECYCLE],
  ];
  for (const [rule, before] of noops) {
    it(rule, () => {
      const { state, effects } = step(before, { type: 'expired' }, ctx());
      assert.equal(state, before);
      assert.deepEqual(effects, []);
    });
  }
});

describe('lifecycle: fetching and leases', () => {
  it('a fetch that starts is counted and timed', () => {
    const { state } = step(INITIAL_LIFECYCLE, { type: 'fetch-started' }, ctx());
    assert.equal(state.fetches, 1);
    assert.equal(state.lastFetchAt, NOW);
    assert.equal(state.attempted, false, 'still pending until it finishes');
  });
  it('another process holding the lease: look again when it could have run out (or sooner)', () => {
    assert.deepEqual(step(INITIAL_LIFECYCLE, { type: 'lease-busy' }, ctx()).state.nextRefresh, { at: NOW + 30_000, rule: 'another process is fetching' });
    assert.equal(step(INITIAL_LIFECYCLE, { type: 'lease-busy' }, ctx({ leaseTtlMs: 10 * MIN })).state.nextRefresh?.at, NOW + S.backoffInitialMs);
  });
});

describe('lifecycle: is a refresh due?', () => {
  const rows: [string, Lifecycle, boolean][] = [
    ['nothing stapled', INITIAL_LIFECYCLE, true],
    ['stapled, refresh planned later', with_({ staple: staple(), nextRefresh: { at: NOW + HOUR, rule: 'x' } }), false],
    ['stapled, refresh planned within the floor', with_({ staple: staple(), nextRefresh: { at: NOW + S.floorMs, rule: 'x' } }), true],
    ['stapled, refresh overdue', with_({ staple: staple(), nextRefresh: { at: NOW - 1, rule: 'x' } }), true],
  ];
  for (const [when, state, due] of rows) it(when, () => assert.equal(isDue(state, NOW, S), due));
});
