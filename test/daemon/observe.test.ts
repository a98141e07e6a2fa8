// The daemon seen from outside: /metrics scraped from a real daemon (a real responder as the CA),
// checked against the staple files it wrote; each failure reason the responder can cause, counted;
// /healthz, /status.json and /status.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { assembleDaemon } from '../../src/daemon/assemble.ts';
import { buildConfig } from '../../src/daemon/config.ts';
import type { Daemon } from '../../src/daemon/daemon.ts';
import { METRIC_NAMES } from '../../src/metrics/metrics.ts';
import { buildRequest, certIdFor } from '../../src/ocsp/request.ts';
import { FAILURE_REASONS } from '../../src/fetch/staple-fetcher.ts';
import { verifyResponse } from '../../src/ocsp/verify.ts';
import { captureLogger } from '../support/log-capture.ts';
import { caRig } from '../support/ca-rig.ts';
import { fullchain, type TestPki } from '../support/pki.ts';
import { parseSamples, sample, valueOr0 } from '../support/prom-text.ts';
import type { TestResponder } from '../support/responder.ts';
import { type Behaviour } from '../support/responder.ts';
import { waitFor } from '../support/wait.ts';

let pki: TestPki;
let responder: TestResponder;
const stops: (() => Promise<void>)[] = [];
const { logger } = captureLogger();

before(async () => ({ pki, responder } = await caRig()));
after(async () => {
  for (const stop of stops.reverse()) await stop();
  await responder.close();
});

interface Running {
  daemon: Daemon;
  url: string;
  dir: string;
  site: string;
  must: string;
}

/** A daemon with two certificates (one Must-Staple) and its listener on a free port. */
async function start(settings: Record<string, unknown> = {}): Promise<Running> {
  const dir = await mkdtemp(join(tmpdir(), 'stapler-observe-'));
  await mkdir(join(dir, 'certs'));
  const site = join(dir, 'certs', 'site.pem');
  const must = join(dir, 'certs', 'must <b>&.pem');
  await writeFile(site, fullchain(pki.leaf, pki.intermediate));
  await writeFile(must, fullchain(pki.mustStapleLeaf, pki.intermediate));
  const config = buildConfig(
    {
      certificates: [join(dir, 'certs', '*.pem')],
      stateFile: join(dir, 'state.json'),
      storeDir: join(dir, 'store'),
      rescanMs: 60_000,
      timeoutMs: 1_000,
      deadlineMs: 1_000,
      listen: '127.0.0.1:0',
      ...settings,
    },
    dir,
  );
  const { service } = assembleDaemon(config, logger);
  stops.push(() => service.stop());
  await service.start();
  const daemon = service.daemon;
  const { port } = service.address()!;
  return { daemon, url: `http://127.0.0.1:${port}`, dir, site, must };
}

async function get(url: string, method: 'GET' | 'HEAD' | 'POST' = 'GET'): Promise<{ status: number; type: string; body: string }> {
  const res = await request(url, { method });
  return { status: res.statusCode, type: String(res.headers['content-type']), body: await res.body.text() };
}

const scrape = async (r: Running): Promise<ReturnType<typeof parseSamples>> => parseSamples((await get(`${r.url}/metrics`)).body);

describe('the daemon, observed', () => {
  let r: Running;
  before(async () => {
    responder.behaviour = 'good';
    r = await start();
    await waitFor('both staple files', () => existsSync(`${r.site}.ocsp`) && existsSync(`${r.must}.ocsp`));
  });

  it('/metrics: the staples written, timestamps equal to the files', async () => {
    const res = await get(`${r.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.type, /^text\/plain; version=0\.0\.4/);
    const samples = parseSamples(res.body);
    for (const [file, leaf] of [
      [r.site, pki.leaf],
      [r.must, pki.mustStapleLeaf],
    ] as const) {
      const v = verifyResponse(await readFile(`${file}.ocsp`), { certificate: leaf.cert, issuer: pki.intermediate.cert, now: Date.now() });
      assert.ok(v.ok);
      assert.equal(sample(samples, 'stapler_staple_this_update_timestamp_seconds', { cert: file }), v.thisUpdate / 1000);
      assert.equal(sample(samples, 'stapler_staple_next_update_timestamp_seconds', { cert: file }), v.nextUpdate! / 1000);
      assert.equal(sample(samples, 'stapler_staple_valid_until_timestamp_seconds', { cert: file }), v.validUntil / 1000);
      assert.equal(sample(samples, 'stapler_certificate_not_after_timestamp_seconds', { cert: file }), leaf.cert.notAfter / 1000);
      assert.equal(sample(samples, 'stapler_certificate_state', { cert: file, state: 'stapled' }), 1);
      assert.equal(sample(samples, 'stapler_certificate_revoked', { cert: file }), 0);
      assert.equal(sample(samples, 'stapler_refresh_consecutive_failures', { cert: file }), 0);
      assert.ok(sample(samples, 'stapler_next_refresh_timestamp_seconds', { cert: file }) > Date.now() / 1000);
      assert.equal(
        sample(samples, 'stapler_certificate_info', {
          cert: file,
          subject: leaf.cert.subject,
          serial: leaf.cert.serialHex,
          responder: new URL(responder.url).host,
          must_staple: String(leaf === pki.mustStapleLeaf),
        }),
        1,
      );
    }
    assert.equal(sample(samples, 'stapler_must_staple_at_risk', { cert: r.must }), 0);
    assert.equal(valueOr0(samples, 'stapler_must_staple_at_risk', { cert: r.site }), 0, 'only Must-Staple certificates have the gauge');
    assert.equal(sample(samples, 'stapler_refreshes_total', { result: 'success' }), 2);
    assert.equal(sample(samples, 'stapler_fetch_duration_seconds_count', { responder: new URL(responder.url).host }), 2);
    assert.equal(sample(samples, 'stapler_build_info', { version: '0.1.0' }), 1);
    assert.equal(sample(samples, 'stapler_store_lease_contention_total'), 0);
    // Every metric is there from the first scrape (no reason needs to happen first).
    for (const name of METRIC_NAMES.filter((n) => n !== 'stapler_handshakes_total')) assert.ok(res.body.includes(`# TYPE ${name} `), name);
    assert.ok(!res.body.includes('stapler_handshakes_total'), 'the daemon sees no handshakes: no handshake counter');
    assert.equal(sample(samples, 'stapler_ocsp_responder_requests_total', { result: 'hash-mismatch' }), 0);
    for (const reason of FAILURE_REASONS) assert.equal(sample(samples, 'stapler_refresh_failures_total', { reason }), 0, reason);
  });

  it('/healthz is 200 while every Must-Staple certificate is stapled and nothing lapses soon; HEAD and 405', async () => {
    const res = await get(`${r.url}/healthz`);
    assert.deepEqual([res.status, res.body], [200, 'ok\n']);
    const head = await get(`${r.url}/healthz`, 'HEAD');
    assert.deepEqual([head.status, head.body], [200, '']);
    assert.equal((await get(`${r.url}/metrics`, 'POST')).status, 405);
  });

  it('/status.json is the state file, with ISO times; /status escapes what files and subjects say', async () => {
    const json = await get(`${r.url}/status.json`);
    assert.match(json.type, /^application\/json/);
    const state = JSON.parse(json.body) as { files: { file: string; nextUpdate: string }[] };
    assert.equal(state.files.length, 2);
    for (const f of state.files) assert.match(f.nextUpdate, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    // The responder's counts and the unmanaged CertIDs asked about.
    const unmanaged = await request(`${r.url}/`, {
      method: 'POST',
      body: buildRequest(certIdFor(pki.rsaLeaf.cert, pki.intermediate.cert)),
      headers: { 'content-type': 'application/ocsp-request' },
    });
    await unmanaged.body.arrayBuffer();
    const withOcsp = JSON.parse((await get(`${r.url}/status.json`)).body) as {
      ocspResponder: { counts: Record<string, number>; unmanaged: { hash: string; issuerKeyHash: string; serial: string; count: number }[] };
    };
    assert.equal(withOcsp.ocspResponder.counts.unauthorized, 1);
    assert.deepEqual(
      withOcsp.ocspResponder.unmanaged.map((u) => [u.hash, u.issuerKeyHash, u.serial, u.count]),
      [['sha1', pki.intermediate.cert.keyHash('sha1').toString('hex'), pki.rsaLeaf.cert.serialHex, 1]],
    );
    const page = await get(`${r.url}/status`);
    assert.ok(page.body.includes(`serial ${pki.rsaLeaf.cert.serialHex}: 1 request(s)`), 'the page lists the unmanaged CertID');
    assert.match(page.body, /OCSP responder requests: stapled \d+, [^<]*unauthorized 1/);
    assert.match(page.type, /^text\/html/);
    assert.ok(page.body.includes('must &#60;b&#62;&#38;.pem'), 'the file name is escaped');
    assert.ok(!page.body.includes('<b>&'), 'nothing unescaped');
    assert.match(page.body, /<meta http-equiv="refresh" content="30">/);
    assert.doesNotMatch(page.body, /<script|<link|src=/, 'no script and no external asset');
  });

  it("counts requests to the daemon's OCSP responder by result", async () => {
    const before = await scrape(r);
    assert.equal(sample(before, 'stapler_ocsp_responder_requests_total', { result: 'stapled' }), 0);
    const res = await request(`${r.url}/ocsp`, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: 'not DER' });
    await res.body.dump();
    const after = await scrape(r);
    assert.equal(
      sample(after, 'stapler_ocsp_responder_requests_total', { result: 'malformed' }) -
        sample(before, 'stapler_ocsp_responder_requests_total', { result: 'malformed' }),
      1,
    );
    assert.equal(sample(after, 'stapler_ocsp_responder_duration_seconds_count'), sample(before, 'stapler_ocsp_responder_duration_seconds_count') + 1);
  });

  // What the responder can do wrong, and the reason each failure is counted under.
  const CAUSES: [Behaviour, string][] = [
    ['tryLater', 'try-later'],
    ['internalError', 'internal-error'],
    ['unauthorized', 'unauthorized'],
    ['sigRequired', 'sig-required'],
    ['malformedRequest', 'malformed-request'],
    ['malformed-bytes', 'malformed'],
    ['http-500', 'fetch-http-status'],
    ['wrong-content-type', 'fetch-content-type'],
    ['reset', 'fetch-network'],
    ['huge-body', 'fetch-too-large'],
    ['wrong-serial', 'cert-id-mismatch'],
    ['expired', 'expired'],
    ['future-this-update', 'not-yet-valid'],
    ['bad-signature', 'bad-signature'],
    ['unauthorized-signer', 'unauthorized-signer'],
    ['unknown', 'status-unknown'],
    ['hang', 'fetch-timeout'],
  ];
  for (const [behaviour, reason] of CAUSES) {
    it(`counts a refresh that fails with ${reason} (responder: ${behaviour})`, async () => {
      const before = await scrape(r);
      responder.behaviour = behaviour;
      try {
        await r.daemon.refreshAll();
      } finally {
        responder.behaviour = 'good';
      }
      const status = r.daemon.engine.status();
      assert.deepEqual(
        status.map((s) => s.lastError?.reason),
        [reason, reason],
      );
      const after = await scrape(r);
      const delta = (name: string, labels: Record<string, string>): number => valueOr0(after, name, labels) - valueOr0(before, name, labels);
      assert.equal(delta('stapler_refresh_failures_total', { reason }), 2);
      assert.equal(delta('stapler_refreshes_total', { result: 'failure' }), 2);
      assert.equal(delta('stapler_refresh_failures_total', {}), 2, 'no other reason counted');
      assert.ok(sample(after, 'stapler_refresh_consecutive_failures', { cert: r.site }) >= 1);
      assert.equal(sample(after, 'stapler_certificate_state', { cert: r.site, state: 'stapled-refresh-failing' }), 1);
    });
  }
});

describe('/healthz, unhealthy', () => {
  it('is 503 naming a Must-Staple certificate without a staple', async () => {
    responder.behaviour = 'http-500';
    const r = await start();
    try {
      await waitFor('a failed first fetch', () => r.daemon.engine.status().every((s) => s.state === 'unstapled'));
      const res = await get(`${r.url}/healthz`);
      assert.equal(res.status, 503);
      assert.match(res.body, /^unhealthy:\n/);
      assert.ok(res.body.includes(`${r.must}: Must-Staple and no staple (unstapled: fetch-http-status)`), res.body);
      assert.ok(res.body.includes(`${r.site}: no staple (unstapled: fetch-http-status)`), 'unstapled after a failed first fetch is unhealthy too');
      const samples = await scrape(r);
      assert.equal(sample(samples, 'stapler_must_staple_at_risk', { cert: r.must }), 1);
    } finally {
      responder.behaviour = 'good';
    }
  });

  it('is 200 with freshly fetched 30-minute staples: a refresh is planned before they lapse', async () => {
    responder.validityMs = 30 * 60_000;
    try {
      const r = await start();
      await waitFor('both stapled', () => r.daemon.engine.status().every((s) => s.state === 'stapled'));
      const res = await get(`${r.url}/healthz`);
      assert.deepEqual([res.status, res.body], [200, 'ok\n']);
    } finally {
      responder.validityMs = 24 * 3_600_000;
    }
  });
});
