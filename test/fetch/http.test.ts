import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fetchStaple, NoResponderError } from '../../src/fetch/fetch-staple.ts';
import { FetchError, OcspHttpClient, type FetchFailure } from '../../src/fetch/http.ts';
import { buildRequest, certIdFor } from '../../src/ocsp/request.ts';
import type { RejectReason } from '../../src/ocsp/verify.ts';
import { makePki, type TestPki } from '../support/pki.ts';
import { TestProxy } from '../support/proxy.ts';
import { TestResponder, type Behaviour } from '../support/responder.ts';

let responder: TestResponder;
let pki: TestPki;
let client: OcspHttpClient;

before(async () => {
  responder = new TestResponder();
  const url = await responder.listen();
  pki = await makePki({ ocspUrl: url });
  responder.serve(pki);
  client = new OcspHttpClient({ timeoutMs: 1_500 });
});
after(async () => {
  await client.close();
  await responder.close();
});

function fetchLeaf(opts: { urls?: string[]; nonce?: boolean; client?: OcspHttpClient } = {}): ReturnType<typeof fetchStaple> {
  return fetchStaple({ certificate: pki.leaf.cert, issuer: pki.intermediate.cert, client: opts.client ?? client, now: Date.now, ...opts });
}

async function fetchError(promise: Promise<unknown>): Promise<FetchError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof FetchError) return err;
    throw err;
  }
  assert.fail('expected a FetchError');
}

describe('HTTP transport', () => {
  it('uses GET when the URL fits in 255 bytes', async () => {
    responder.behaviour = 'good';
    const before = responder.requestCount;
    const result = await fetchLeaf();
    assert.ok(result.accepted);
    assert.equal(result.accepted.response.method, 'GET');
    assert.equal(responder.received[before]?.method, 'GET');
    assert.deepEqual(responder.received[before]?.serials, [pki.leaf.cert.serialHex]);
  });
  it('uses POST when the GET URL would be too long', async () => {
    responder.behaviour = 'good';
    const longUrl = `${responder.url}/${'p'.repeat(200)}`;
    const before = responder.requestCount;
    const result = await fetchLeaf({ urls: [longUrl] });
    assert.ok(result.accepted);
    assert.equal(result.accepted.response.method, 'POST');
    assert.equal(responder.received[before]?.method, 'POST');
  });
  it('reads Cache-Control max-age', async () => {
    responder.behaviour = 'good';
    responder.headers = { 'cache-control': 'public, max-age=7200, no-transform' };
    try {
      const result = await fetchLeaf();
      assert.equal(result.accepted?.response.maxAgeSeconds, 7200);
    } finally {
      responder.headers = {};
    }
  });
  it('goes through a plain-HTTP proxy with absolute-form requests', async () => {
    const proxy = new TestProxy();
    const proxyUrl = await proxy.listen();
    const viaProxy = new OcspHttpClient({ timeoutMs: 1_500, proxy: proxyUrl });
    try {
      responder.behaviour = 'good';
      const result = await fetchLeaf({ client: viaProxy });
      assert.ok(result.accepted);
      assert.equal(proxy.forwarded.length, 1);
      assert.ok(proxy.forwarded[0]!.startsWith(responder.url));
    } finally {
      await viaProxy.close();
      await proxy.close();
    }
  });
  it('refuses URLs that are not http(s)', async () => {
    const request = buildRequest(certIdFor(pki.leaf.cert, pki.intermediate.cert));
    for (const bad of ['ftp://127.0.0.1/ocsp', 'not a url', 'http://user:pw@127.0.0.1/']) {
      const err = await fetchError(client.fetch(bad, request));
      assert.equal(err.reason, 'bad-url', bad);
    }
  });
});

describe('responder faults become typed failures', () => {
  const transportCases: [Behaviour, FetchFailure][] = [
    ['hang', 'timeout'],
    ['trickle', 'timeout'],
    ['reset', 'network'],
    ['http-500', 'http-status'],
    ['wrong-content-type', 'content-type'],
    ['huge-body', 'too-large'],
  ];
  for (const [behaviour, failure] of transportCases) {
    it(`${behaviour} → ${failure}`, async () => {
      responder.behaviour = behaviour;
      const result = await fetchLeaf();
      assert.equal(result.accepted, null);
      const attempt = result.attempts[0]!;
      assert.equal(attempt.ok, false);
      if (!attempt.ok) {
        assert.equal(attempt.error.reason, failure, attempt.error.message);
        assert.ok(attempt.error.message.startsWith(responder.url), attempt.error.message);
      }
    });
  }
  it('a refused connection is a network failure', async () => {
    const result = await fetchLeaf({ urls: ['http://127.0.0.1:1/ocsp'] });
    const attempt = result.attempts[0]!;
    assert.equal(!attempt.ok && attempt.error.reason, 'network');
  });
});

describe('responder answers become verdicts', () => {
  const cases: [Behaviour, 'good' | 'revoked' | RejectReason][] = [
    ['good', 'good'],
    ['revoked', 'revoked'],
    ['delegated', 'good'],
    ['unknown', 'status-unknown'],
    ['malformedRequest', 'malformed-request'],
    ['internalError', 'internal-error'],
    ['tryLater', 'try-later'],
    ['sigRequired', 'sig-required'],
    ['unauthorized', 'unauthorized'],
    ['malformed-bytes', 'malformed'],
    ['wrong-serial', 'cert-id-mismatch'],
    ['expired', 'expired'],
    ['future-this-update', 'not-yet-valid'],
    ['bad-signature', 'bad-signature'],
    ['unauthorized-signer', 'unauthorized-signer'],
  ];
  for (const [behaviour, expected] of cases) {
    it(`${behaviour} → ${expected}`, async () => {
      responder.behaviour = behaviour;
      const result = await fetchLeaf();
      const attempt = result.attempts[0]!;
      assert.ok(attempt.ok, 'the transport should succeed');
      const got = attempt.verdict.ok ? attempt.verdict.certStatus : attempt.verdict.reason;
      assert.equal(got, expected);
      assert.equal(result.accepted !== null, expected === 'good' || expected === 'revoked');
    });
  }
  it('no-next-update → accepted for the default lifetime', async () => {
    responder.behaviour = 'no-next-update';
    const result = await fetchLeaf();
    assert.ok(result.accepted);
    assert.equal(result.accepted.verdict.nextUpdate, null);
    assert.equal(result.accepted.verdict.validUntil - result.accepted.verdict.thisUpdate, 3_600_000);
  });
});

describe('fetchStaple', () => {
  it('asks responders in order and stops at the first acceptable answer', async () => {
    responder.behaviour = 'good';
    const result = await fetchLeaf({ urls: ['http://127.0.0.1:1/dead', responder.url, 'http://127.0.0.1:2/never'] });
    assert.ok(result.accepted);
    assert.deepEqual(
      result.attempts.map((a) => a.url),
      ['http://127.0.0.1:1/dead', responder.url],
    );
  });
  it("uses the certificate's AIA URLs by default", async () => {
    responder.behaviour = 'good';
    const result = await fetchLeaf();
    assert.deepEqual(
      result.attempts.map((a) => a.url),
      pki.leaf.cert.ocspUrls,
    );
  });
  it('sends a nonce when asked, and the echo is checked', async () => {
    responder.behaviour = 'good';
    const before = responder.requestCount;
    const result = await fetchLeaf({ nonce: true });
    assert.ok(result.accepted);
    assert.equal(responder.received[before]?.nonce?.length, 32);
  });
  it('reports a certificate without OCSP URL as having no responder', async () => {
    await assert.rejects(
      fetchStaple({ certificate: pki.noAiaLeaf.cert, issuer: pki.intermediate.cert, client, now: Date.now }),
      (err: unknown) => err instanceof NoResponderError && /names no OCSP responder/.test(err.message),
    );
  });
});

describe("HttpFetcher (the engine's fetcher)", () => {
  it('gives up on all responders at the overall deadline, not after every timeout', async () => {
    const { HttpFetcher } = await import('../../src/fetch/http-fetcher.ts');
    responder.behaviour = 'hang';
    const fetcher = new HttpFetcher({ timeoutMs: 1_000, deadlineMs: 1_500, maxResponseBytes: 65_536, hash: 'sha1', verify: {} });
    const before = responder.requestCount;
    try {
      const outcome = await fetcher.fetch({
        certificate: pki.leaf.cert,
        issuer: pki.intermediate.cert,
        urls: [responder.url, `${responder.url}/b`, `${responder.url}/c`],
        now: Date.now,
        signal: new AbortController().signal,
      });
      assert.equal(outcome.ok, false);
      // The first responder used its whole timeout, the second was cut off by the deadline,
      // and the third was never asked.
      assert.equal(responder.requestCount - before, 2);
      assert.ok(!outcome.ok && outcome.reason === 'fetch-timeout', JSON.stringify(outcome));
    } finally {
      await fetcher.close();
      responder.behaviour = 'good';
    }
  });
  it('returns the verified response with its max-age', async () => {
    const { HttpFetcher } = await import('../../src/fetch/http-fetcher.ts');
    responder.behaviour = 'good';
    responder.headers = { 'cache-control': 'max-age=600' };
    const fetcher = new HttpFetcher({ timeoutMs: 1_000, deadlineMs: 1_500, maxResponseBytes: 65_536, hash: 'sha1', verify: {} });
    try {
      const outcome = await fetcher.fetch({
        certificate: pki.leaf.cert,
        issuer: pki.intermediate.cert,
        urls: [responder.url],
        now: Date.now,
        signal: new AbortController().signal,
      });
      assert.ok(outcome.ok);
      assert.equal(outcome.maxAgeSeconds, 600);
    } finally {
      responder.headers = {};
      await fetcher.close();
    }
  });
});
