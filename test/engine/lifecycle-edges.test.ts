// The lifecycle's log lines as operators read them (level, fields, message), and the policy's
// boundaries, row by row: each row kills a mutant that StrykerJS found alive (`npm run mutation`).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { INITIAL_LIFECYCLE, isDue, step, type Effect, type Lifecycle, type Staple, type StepContext } from '../../src/engine/lifecycle.ts';
import { DEFAULT_REFRESH_SETTINGS as S, nextRefresh, nextRetry, type CurrentResponse } from '../../src/engine/policy.ts';
import type { Acceptable } from '../../src/ocsp/verify.ts';
import { acceptable } from '../support/verdicts.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);
const iso = (t: number): string => new Date(t).toISOString();

function staple(over: Partial<Acceptable> & { source?: 'fetch' | 'store' } = {}): Staple {
  const { source, ...fields } = over;
  const verdict = acceptable(NOW, fields);
  const { thisUpdate, validUntil } = verdict;
  const der = Buffer.from(`${verdict.certStatus}|${thisUpdate}|${validUntil}|${source ?? 'fetch'}`);
  return { der, verdict, fetchedAt: NOW, maxAgeSeconds: null, source: source ?? 'fetch' };
}

const ctx = (over: Partial<StepContext> = {}): StepContext => ({ now: NOW, settings: S, random: 0, mustStaple: false, leaseTtlMs: 30_000, ...over });
const state = (over: Partial<Lifecycle>): Lifecycle => ({ ...INITIAL_LIFECYCLE, ...over });
const logs = (effects: readonly Effect[]): { level: string; fields: Record<string, unknown>; message: string }[] =>
  effects.flatMap((e) => (e.type === 'log' ? [{ level: e.level, fields: { ...e.fields }, message: e.message }] : []));

describe('lifecycle: the log line of each transition', () => {
  it('a fetch starting', () => {
    const r = step(INITIAL_LIFECYCLE, { type: 'fetch-started' }, ctx());
    assert.deepEqual(logs(r.effects), [{ level: 'debug', fields: {}, message: 'fetching an OCSP response' }]);
  });
  it('another process holding the lease', () => {
    const r = step(INITIAL_LIFECYCLE, { type: 'lease-busy' }, ctx());
    assert.deepEqual(r.state.nextRefresh, { at: NOW + 30_000, rule: 'another process is fetching' });
    assert.deepEqual(logs(r.effects), [
      { level: 'debug', fields: { nextTry: iso(NOW + 30_000) }, message: 'another process holds the refresh lease: waiting for its result' },
    ]);
  });
  it('a new staple, and a revocation', () => {
    const s = staple({ certStatus: 'revoked', revocationTime: NOW - DAY, revocationReason: 1 });
    const r = step(INITIAL_LIFECYCLE, { type: 'fetched', staple: s }, ctx());
    assert.deepEqual(logs(r.effects), [
      {
        level: 'info',
        fields: {
          certStatus: 'revoked',
          source: 'fetch',
          thisUpdate: iso(NOW - HOUR),
          nextUpdate: iso(s.verdict.validUntil),
          nextRefresh: iso(r.state.nextRefresh!.at),
        },
        message: 'stapling a new OCSP response',
      },
      { level: 'error', fields: { revocationTime: iso(NOW - DAY), revocationReason: 1 }, message: 'certificate is REVOKED: replace it' },
    ]);
  });
  it('a response kept: good after a revocation, and one that is not newer', () => {
    const revoked = staple({ certStatus: 'revoked', revocationTime: NOW - DAY, revocationReason: 1 });
    const good = step(state({ staple: revoked }), { type: 'fetched', staple: staple({ thisUpdate: NOW - MIN }) }, ctx());
    assert.deepEqual(logs(good.effects), [
      { level: 'warn', fields: {}, message: 'responder now says good for a certificate it said was revoked: keeping the revocation' },
    ]);
    const older = step(state({ staple: staple({ thisUpdate: NOW - MIN }) }), { type: 'fetched', staple: staple() }, ctx());
    assert.deepEqual(logs(older.effects), [
      { level: 'debug', fields: { kept: 'older' }, message: 'the fetched response is not newer than the staple: keeping the staple' },
    ]);
  });
  it('a failed refresh, with and without a staple', () => {
    const kept = step(state({ staple: staple() }), { type: 'fetch-failed', reason: 'fetch-network', message: 'connection refused' }, ctx());
    const next = kept.state.nextRefresh!;
    assert.deepEqual(logs(kept.effects), [
      {
        level: 'warn',
        fields: { reason: 'fetch-network', failures: 1, keeping: 'last good response', nextTry: iso(next.at), rule: next.rule },
        message: 'OCSP refresh failed: connection refused',
      },
    ]);
    const none = step(INITIAL_LIFECYCLE, { type: 'fetch-failed', reason: 'try-later', message: 'try later' }, ctx());
    assert.equal(logs(none.effects)[0]!.fields.keeping, 'no staple');
    assert.equal(none.state.attempted, true, 'a failed first fetch is no longer pending');
  });
  it('an expired staple, and a Must-Staple certificate at risk', () => {
    const s = staple({ validUntil: NOW });
    const r = step(state({ staple: s }), { type: 'expired' }, ctx({ mustStaple: true }));
    assert.deepEqual(logs(r.effects), [
      { level: 'warn', fields: { validUntil: iso(NOW) }, message: 'staple expired and was removed: handshakes get no staple until a fetch succeeds' },
      {
        level: 'error',
        fields: { validUntil: null, nextTry: iso(r.state.nextRefresh!.at) },
        message: 'Must-Staple certificate has no staple: clients that enforce Must-Staple will refuse it',
      },
    ]);
    const soon = staple({ validUntil: NOW + 1_000 });
    const f = step(state({ staple: soon }), { type: 'fetch-failed', reason: 'fetch-network', message: 'x' }, ctx({ mustStaple: true }));
    assert.deepEqual(logs(f.effects)[1], {
      level: 'error',
      fields: { validUntil: iso(NOW + 1_000), nextTry: iso(f.state.nextRefresh!.at) },
      message: 'Must-Staple certificate: its staple will expire before the next retry',
    });
  });
});

describe('lifecycle: edges', () => {
  it('with no staple a refresh is due, whatever the schedule says', () => {
    assert.equal(isDue(state({ nextRefresh: { at: NOW + DAY, rule: 'x' } }), NOW, S), true);
    assert.equal(isDue(state({ staple: staple(), nextRefresh: { at: NOW + DAY, rule: 'x' } }), NOW, S), false);
  });
  it('a stored copy with a newer thisUpdate replaces the staple', () => {
    const r = step(state({ staple: staple() }), { type: 'loaded', staple: staple({ thisUpdate: NOW - MIN, source: 'store' }) }, ctx());
    assert.equal(r.state.staple!.verdict.thisUpdate, NOW - MIN);
  });
  it('a Must-Staple certificate whose next retry falls exactly at expiry is at risk', () => {
    // The floor (10 s) puts the retry at validUntil exactly: the staple is gone by then.
    const r = step(
      state({ staple: staple({ validUntil: NOW + S.floorMs }) }),
      { type: 'fetch-failed', reason: 'fetch-network', message: 'x' },
      ctx({ mustStaple: true }),
    );
    assert.equal(r.state.nextRefresh!.at, NOW + S.floorMs);
    assert.ok(r.effects.some((e) => e.type === 'emit' && e.event === 'mustStapleAtRisk'));
  });
  it('at expiry, a retry already due at that very moment keeps its rule', () => {
    const r = step(state({ staple: staple({ validUntil: NOW }), nextRefresh: { at: NOW, rule: 'exponential backoff' } }), { type: 'expired' }, ctx());
    assert.deepEqual(r.state.nextRefresh, { at: NOW, rule: 'exponential backoff' });
  });
});

describe('policy: boundaries', () => {
  const response = (over: Partial<CurrentResponse> = {}): CurrentResponse => ({
    thisUpdate: NOW,
    validUntil: NOW + 4 * DAY,
    signerNotAfter: NOW + 365 * DAY,
    fetchedAt: NOW,
    maxAgeSeconds: null,
    ...over,
  });
  it('a signer that ends exactly with the response does not cap it', () => {
    assert.equal(nextRefresh(response({ signerNotAfter: NOW + 4 * DAY }), NOW, S, 0).rule, 'fraction of validity window');
  });
  it('a max-age that ends exactly at the refresh point does not decide it', () => {
    assert.deepEqual(nextRefresh(response({ maxAgeSeconds: (2 * DAY) / 1000 }), NOW, S, 0), { at: NOW + 2 * DAY, rule: 'fraction of validity window' });
  });
  it('a refresh point exactly at the minimum interval is kept', () => {
    const r = response({ validUntil: NOW + 10 * MIN });
    assert.deepEqual(nextRefresh(r, NOW, S, 0), { at: NOW + 5 * MIN, rule: 'fraction of validity window' });
  });
  it('a minimum interval that ends exactly at expiry: refresh sooner', () => {
    const r = response({ validUntil: NOW + 5 * MIN });
    assert.equal(nextRefresh(r, NOW, S, 0).rule, 'expires before the minimum interval');
  });
  it('no near-expiry cap once the staple has ended (or ends now)', () => {
    for (const validUntil of [NOW - 1, NOW]) assert.deepEqual(nextRetry(1, validUntil, NOW, S, 0.5), { at: NOW + MIN, rule: 'exponential backoff' });
  });
  it('the near-expiry cap applies only when shorter than the maximum', () => {
    assert.deepEqual(nextRetry(10, NOW + 10 * DAY, NOW, S, 0.5), { at: NOW + HOUR, rule: 'backoff at its maximum' });
    assert.equal(nextRetry(10, NOW + 4 * HOUR, NOW, S, 0.5).rule, 'backoff at its maximum', 'a cap equal to the maximum');
  });
  it('a doubling that reaches the cap exactly is still the doubling', () => {
    assert.deepEqual(nextRetry(3, null, NOW, { ...S, backoffMaxMs: 4 * MIN }, 0.5), { at: NOW + 4 * MIN, rule: 'exponential backoff' });
  });
});
