// The /healthz rule (judgeHealth), case by case, on statuses as the engine reports them.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CertificateStatus } from '../../src/engine/types.ts';
import { judgeHealth } from '../../src/metrics/certificate-risk.ts';

const NOW = Date.UTC(2026, 0, 1);
const MIN = 60_000;

function status(over: Partial<CertificateStatus>): CertificateStatus {
  return {
    id: 'id',
    subject: 'CN=site',
    serial: '01',
    mustStaple: false,
    responders: ['http://ocsp.test/'],
    notAfter: NOW + 90 * 24 * 60 * MIN,
    state: 'stapled',
    certStatus: 'good',
    thisUpdate: NOW - MIN,
    nextUpdate: NOW + 24 * 60 * MIN,
    validUntil: NOW + 24 * 60 * MIN,
    source: 'fetch',
    nextRefreshAt: NOW + 12 * 60 * MIN,
    nextRefreshRule: 'half',
    lastError: null,
    consecutiveFailures: 0,
    counters: { fetches: 1, fetchFailures: 0, stapled: 0, unstapled: 0 },
    ...over,
  };
}
const judge = (s: Partial<CertificateStatus>) => judgeHealth([status(s)], NOW, (x) => x.subject);
const failing = { reason: 'fetch-http-status', message: 'HTTP 500', at: NOW } as const;

describe('the /healthz rule', () => {
  it('healthy: a staple with a refresh planned, a freshly refreshed 1-hour staple, pending at start, no responder without Must-Staple', () => {
    assert.ok(judge({}).healthy);
    assert.ok(judge({ validUntil: NOW + 60 * MIN, nextUpdate: NOW + 60 * MIN, nextRefreshAt: NOW + 30 * MIN }).healthy);
    assert.ok(judge({ state: 'pending', validUntil: null, nextRefreshAt: null }).healthy);
    assert.ok(judge({ state: 'pending', mustStaple: true, validUntil: null }).healthy);
    assert.ok(judge({ state: 'no-responder', validUntil: null }).healthy);
  });

  it('(a) unhealthy: a Must-Staple certificate without a staple', () => {
    for (const state of ['unstapled', 'no-responder', 'no-issuer'] as const) {
      const h = judge({ state, mustStaple: true, validUntil: null });
      assert.equal(h.healthy, false, state);
      assert.match(h.problems[0]!, /Must-Staple and no staple/);
    }
  });

  it('(b) unhealthy: any certificate unstapled (first fetch failed, or its staple expired in an outage)', () => {
    const h = judge({ state: 'unstapled', validUntil: null, lastError: failing });
    assert.deepEqual(h.problems, ['CN=site: no staple (unstapled: fetch-http-status)']);
  });

  it('(c) unhealthy: a staple lapsing within the hour whose refresh fails, or with no refresh planned before it lapses', () => {
    const soon = { validUntil: NOW + 40 * MIN, nextUpdate: NOW + 40 * MIN };
    assert.match(
      judge({ ...soon, state: 'stapled-refresh-failing', nextRefreshAt: NOW + 5 * MIN, lastError: failing }).problems[0]!,
      /lapses in 40 min .* its refresh is failing/,
    );
    assert.match(judge({ ...soon, nextRefreshAt: NOW + 50 * MIN }).problems[0]!, /no refresh is planned before then/);
    assert.match(judge({ ...soon, nextRefreshAt: null }).problems[0]!, /no refresh is planned/);
    // Failing but far from lapsing: still healthy (the alert on failures says it).
    assert.ok(judge({ state: 'stapled-refresh-failing', lastError: failing, nextRefreshAt: NOW + 5 * MIN }).healthy);
  });
});
