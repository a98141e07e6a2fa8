// The verdict rule (src/engine/verdict.ts) case by case, and /healthz's reading of it (judgeHealth):
// unhealthy exactly when a certificate is CRITICAL; WARNING lines listed on a 200.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CertificateStatus } from '../../src/engine/types.ts';
import { judge, overall, type OutputHealth } from '../../src/engine/verdict.ts';
import { healthBody, judgeHealth } from '../../src/metrics/certificate-risk.ts';

const NOW = Date.UTC(2026, 0, 1);
const MIN = 60_000;

function status(over: Partial<CertificateStatus>, outputs: OutputHealth[] = []): CertificateStatus {
  const facts = {
    id: 'id',
    subject: 'CN=site',
    serial: '01',
    mustStaple: false,
    responders: ['http://ocsp.test/'],
    notAfter: NOW + 90 * 24 * 60 * MIN,
    state: 'stapled' as const,
    certStatus: 'good' as const,
    thisUpdate: NOW - MIN,
    nextUpdate: NOW + 24 * 60 * MIN,
    validUntil: NOW + 24 * 60 * MIN,
    source: 'fetch' as const,
    nextRefreshAt: NOW + 12 * 60 * MIN,
    nextRefreshRule: 'half',
    lastError: null,
    consecutiveFailures: 0,
    counters: { fetches: 1, fetchFailures: 0, stapled: 0, unstapled: 0 },
    outputs,
    ...over,
  };
  return { ...facts, ...judge(facts, NOW, outputs) };
}
const health = (s: Partial<CertificateStatus>, outputs: OutputHealth[] = []) => judgeHealth([status(s, outputs)], (x) => x.subject);
const failing = { reason: 'fetch-http-status', message: 'HTTP 500', at: NOW } as const;

describe('the verdict rule, and /healthz', () => {
  it('OK and healthy: a staple with a refresh planned, a freshly refreshed 1-hour staple, pending at start, no responder without Must-Staple', () => {
    assert.equal(status({}).verdict, 'OK');
    assert.ok(health({ validUntil: NOW + 60 * MIN, nextUpdate: NOW + 60 * MIN, nextRefreshAt: NOW + 30 * MIN }).healthy);
    assert.equal(status({ state: 'pending', validUntil: null, nextRefreshAt: null }).verdict, 'OK');
    assert.equal(status({ state: 'pending', mustStaple: true, validUntil: null }).verdict, 'OK');
    assert.equal(status({ state: 'no-responder', validUntil: null }).verdict, 'OK');
    assert.equal(healthBody(health({})), 'ok\n');
  });

  it('CRITICAL: a Must-Staple certificate without a staple', () => {
    for (const state of ['unstapled', 'no-responder', 'no-issuer'] as const) {
      const h = health({ state, mustStaple: true, validUntil: null });
      assert.equal(h.healthy, false, state);
      assert.match(h.problems[0]!, /Must-Staple and no staple/);
    }
  });

  it('CRITICAL: any certificate unstapled (first fetch failed, or its staple expired in an outage)', () => {
    const h = health({ state: 'unstapled', validUntil: null, lastError: failing });
    assert.deepEqual(h.problems, ['CN=site: no staple (unstapled: fetch-http-status)']);
    assert.equal(healthBody(h), 'unhealthy:\n- CN=site: no staple (unstapled: fetch-http-status)\n');
  });

  it('CRITICAL: revoked (it was 200 on /healthz and CRITICAL in `stapler status`)', () => {
    const h = health({ certStatus: 'revoked' });
    assert.equal(h.healthy, false);
    assert.match(h.problems[0]!, /REVOKED/);
    assert.equal(status({ certStatus: 'revoked' }).summary, 'REVOKED');
  });

  it('CRITICAL: a staple lapsing within the hour whose refresh fails, or with no refresh planned before it lapses', () => {
    const soon = { validUntil: NOW + 40 * MIN, nextUpdate: NOW + 40 * MIN };
    assert.match(
      health({ ...soon, state: 'stapled-refresh-failing', nextRefreshAt: NOW + 5 * MIN, lastError: failing }).problems[0]!,
      /lapses in 40 min .* its refresh is failing/,
    );
    assert.match(health({ ...soon, nextRefreshAt: NOW + 50 * MIN }).problems[0]!, /no refresh is planned before then/);
    assert.match(health({ ...soon, nextRefreshAt: null }).problems[0]!, /no refresh is planned/);
    assert.ok(status({ ...soon, nextRefreshAt: null }).atRisk);
  });

  it('CRITICAL: a Must-Staple staple whose next try comes after it lapses (however far off)', () => {
    const s = status({ mustStaple: true, state: 'stapled-refresh-failing', lastError: failing, nextRefreshAt: NOW + 25 * 60 * MIN });
    assert.equal(s.verdict, 'CRITICAL');
    assert.equal(s.summary, 'Must-Staple at risk');
    assert.ok(s.atRisk);
  });

  it('WARNING (healthy, listed): a failing refresh with time left, an unknown issuer, an output not written', () => {
    const f = health({ state: 'stapled-refresh-failing', lastError: failing, nextRefreshAt: NOW + 5 * MIN });
    assert.deepEqual([f.healthy, f.verdict], [true, 'WARNING']);
    assert.match(f.problems[0]!, /its refresh is failing \(stapled-refresh-failing: fetch-http-status: HTTP 500\)/);
    assert.match(healthBody(f), /^warning:\n- CN=site: /);
    assert.equal(status({ state: 'no-issuer', validUntil: null }).verdict, 'WARNING');
    const out = { kind: 'staple file', target: '/etc/ssl/site.pem.ocsp', ok: false, error: 'EROFS: read-only file system', since: NOW };
    const o = health({}, [out]);
    assert.deepEqual([o.healthy, o.verdict], [true, 'WARNING']);
    assert.deepEqual(o.problems, ['CN=site: cannot write the staple file /etc/ssl/site.pem.ocsp: EROFS: read-only file system']);
    assert.equal(status({}, [{ ...out, ok: true, error: null }]).verdict, 'OK');
  });

  it('names each failing output in words: a push and a command are not files "written" (the daemon\'s kinds)', () => {
    const failing = (kind: string, target: string, error: string): OutputHealth => ({ kind, target, ok: false, error, since: NOW });
    const problems = health({}, [
      failing('staple-file', '/etc/nginx/tls/a.pem.ocsp', 'EROFS: read-only file system'),
      failing('nginx-include', '/etc/nginx/tls/a.pem.stapling.conf', 'EACCES: permission denied'),
      failing('haproxy-push', '/run/haproxy/admin.sock', 'connect ENOENT'),
      failing('reload-command', 'nginx -s reload', 'exit code 1'),
    ]).problems;
    assert.deepEqual(problems, [
      'CN=site: cannot write the staple file /etc/nginx/tls/a.pem.ocsp: EROFS: read-only file system',
      'CN=site: cannot write the nginx include /etc/nginx/tls/a.pem.stapling.conf: EACCES: permission denied',
      'CN=site: cannot push the staple to HAProxy (/run/haproxy/admin.sock): connect ENOENT',
      'CN=site: the reload command failed (nginx -s reload): exit code 1',
    ]);
  });

  it('reads lastError only where a failure explains the state: a stale one says nothing', () => {
    assert.deepEqual(status({ lastError: failing }).problems, []);
    assert.deepEqual(status({ state: 'no-issuer', validUntil: null, lastError: failing }).problems, [
      'the issuer is not known: give the full chain or the issuer setting',
    ]);
  });

  it('lists problems worst first, and bounds the list', () => {
    const many = [status({ state: 'stapled-refresh-failing', lastError: failing }), ...Array.from({ length: 150 }, () => status({ certStatus: 'revoked' }))];
    const o = overall(many, (s) => s.subject, 100);
    assert.equal(o.verdict, 'CRITICAL');
    assert.equal(o.problems.length, 100);
    assert.equal(o.more, 51);
    assert.ok(o.problems.every((p) => p.includes('REVOKED')));
    assert.deepEqual(o.reasons, ['150 REVOKED', '1 refresh failing']);
    assert.match(healthBody(judgeHealth(many, (s) => s.subject)), /- … and 51 more\n$/);
  });
});
