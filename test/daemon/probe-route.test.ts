// GET /probe on the daemon's listener: the verdicts of `stapler check` in Prometheus text, and
// the bounds that keep it from being a server-side request forgery tool (the allow-list over
// HTTP, no redirect followed, a hanging server, the concurrency cap, the query's size), and off
// unless configured. Real handshakes with Node TLS servers on 127.0.0.1.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { request } from 'undici';
import type { Lookup } from '../../src/check/probe-allow.ts';
import { assembleDaemon } from '../../src/daemon/assemble.ts';
import { buildConfig } from '../../src/daemon/config.ts';
import { captureLogger } from '../support/log-capture.ts';
import { makePki, type TestPki } from '../support/pki.ts';
import { parseSamples, sample } from '../support/prom-text.ts';
import { buildResponse } from '../support/responses.ts';
import { hangingServer, stapleServer, type TestServer } from '../support/staple-server.ts';
import { waitFor } from '../support/wait.ts';

const HOUR = 3_600_000;
let pki: TestPki;
let shared: string;
const servers: Record<string, TestServer> = {};
/** Lookups of rebinding.test so far: its first answer is the allowed address, every later one loopback's next address. */
let rebindLookups = 0;
const lookup: Lookup = async (name) => {
  if (name === 'rebinding.test') return rebindLookups++ === 0 ? ['127.0.0.1'] : ['127.0.0.2'];
  return ({ 'leaf.test': ['127.0.0.1'], 'rebind.test': ['127.0.0.2'], 'mixed.test': ['127.0.0.1', '127.0.0.2'] } as Record<string, string[]>)[name] ?? [];
};

before(async () => {
  pki = await makePki({ ocspUrl: 'http://127.0.0.1:9/ocsp' });
  shared = await mkdtemp(join(tmpdir(), 'stapler-probe-'));
  await writeFile(join(shared, 'root.pem'), pki.root.pem);
  const now = Date.now();
  const staple = (over: object): Buffer =>
    buildResponse({ cert: pki.leaf, issuer: pki.intermediate, thisUpdate: new Date(now - 60_000), nextUpdate: new Date(now + 24 * HOUR), ...over });
  const staples: Record<string, Buffer | null> = {
    sound: staple({}),
    expired: staple({ thisUpdate: new Date(now - 48 * HOUR), nextUpdate: new Date(now - 24 * HOUR) }),
    wrongSerial: staple({ serialHex: '0DEADBEEF0' }),
    revoked: staple({ status: 'revoked', revocationTime: new Date(now - HOUR) }),
    missing: null,
  };
  for (const [name, bytes] of Object.entries(staples)) servers[name] = await stapleServer(pki.leaf, [pki.intermediate], () => bytes);
  servers.hang = await hangingServer();
  // A chain far over OpenSSL's 100 KiB cap on the certificate message: 250 copies of the intermediate.
  servers.flood = await stapleServer(
    pki.leaf,
    Array.from({ length: 250 }, () => pki.intermediate),
    () => staples.sound!,
  );
  // Sends an HTTP redirect as soon as the handshake ends; whoever follows it connects to `elsewhere`.
  servers.elsewhere = await hangingServer();
  servers.redirect = await stapleServer(
    pki.leaf,
    [pki.intermediate],
    () => staples.sound!,
    (s) => s.end(`HTTP/1.1 302 Found\r\nLocation: https://127.0.0.1:${servers.elsewhere!.port}/\r\nContent-Length: 0\r\n\r\n`),
  );
});
after(async () => {
  for (const s of Object.values(servers)) await s.close();
  await rm(shared, { recursive: true, force: true });
});

const ports = (): number[] => Object.values(servers).map((s) => s.port);

async function daemonWith(t: TestContext, probe: Record<string, unknown> | undefined): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'stapler-probe-daemon-'));
  await mkdir(join(dir, 'certs'));
  const config = buildConfig(
    {
      certificates: [join(dir, 'certs', '*.pem')],
      stateFile: join(dir, 'state.json'),
      storeDir: join(dir, 'store'),
      listen: '127.0.0.1:0',
      ...(probe ? { probe } : {}),
    },
    dir,
  );
  const { service } = assembleDaemon(config, captureLogger().logger, { probeLookup: lookup });
  t.after(() => service.stop());
  t.after(() => rm(dir, { recursive: true, force: true }));
  await service.start();
  return `http://127.0.0.1:${service.address()!.port}`;
}

const allowLocal = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  // 0.0.0.0/0 does not open the rest of loopback: only the narrow 127.0.0.1/32 does.
  allow: { hosts: ['leaf.test', 'rebind.test', 'mixed.test', 'rebinding.test'], cidrs: ['127.0.0.1/32', '0.0.0.0/0'], ports: ports() },
  ca: join(shared, 'root.pem'),
  timeoutMs: 2_000,
  ...over,
});

async function get(url: string): Promise<{ status: number; body: string; refusedBy: string | undefined }> {
  const res = await request(url);
  const body = await res.body.text();
  return { status: res.statusCode, body, refusedBy: res.headers['x-stapler-probe-refused'] as string | undefined };
}

describe('GET /probe', () => {
  it("answers each staple's verdict as `stapler check` judges it, in Prometheus text", async (t) => {
    const url = await daemonWith(t, allowLocal());
    const probeOf = async (name: string, target = `leaf.test:${servers[name]!.port}`): Promise<ReturnType<typeof parseSamples>> => {
      const r = await get(`${url}/probe?target=${target}`);
      assert.equal(r.status, 200, r.body);
      return parseSamples(r.body);
    };
    const sound = await probeOf('sound');
    assert.equal(sample(sound, 'probe_success'), 1);
    assert.equal(sample(sound, 'probe_ocsp_stapled'), 1);
    assert.equal(sample(sound, 'probe_ocsp_verdict', { verdict: 'valid', reason: 'good' }), 1);
    assert.equal(sample(sound, 'probe_ocsp_cert_status', { status: 'good' }), 1);
    assert.equal(sample(sound, 'probe_ocsp_cert_status', { status: 'revoked' }), 0);
    assert.equal(sample(sound, 'probe_ocsp_must_staple'), 0);
    const left = sample(sound, 'probe_ocsp_next_update_seconds');
    assert.ok(left > 23 * 3600 && left <= 24 * 3600, String(left));
    assert.ok(sample(sound, 'probe_ocsp_this_update_age_seconds') >= 60);
    assert.ok(sample(sound, 'probe_tls_handshake_duration_seconds') > 0);
    assert.ok(sample(sound, 'probe_duration_seconds') >= sample(sound, 'probe_tls_handshake_duration_seconds'));
    // By address, with the name for SNI and the certificate check.
    assert.equal(sample(await probeOf('sound', `127.0.0.1:${servers.sound!.port}&servername=leaf.test`), 'probe_success'), 1);

    const expired = await probeOf('expired');
    assert.equal(sample(expired, 'probe_success'), 0);
    assert.equal(sample(expired, 'probe_ocsp_verdict', { verdict: 'invalid', reason: 'expired' }), 1);
    assert.ok(sample(expired, 'probe_ocsp_next_update_seconds') < -23 * 3600);
    assert.ok(!expired.some((s) => s.name === 'probe_ocsp_cert_status'), 'no certificate status from a rejected staple');
    assert.equal(sample(await probeOf('wrongSerial'), 'probe_ocsp_verdict', { verdict: 'invalid', reason: 'cert-id-mismatch' }), 1);
    const missing = await probeOf('missing');
    assert.equal(sample(missing, 'probe_ocsp_stapled'), 0);
    assert.equal(sample(missing, 'probe_ocsp_verdict', { verdict: 'missing', reason: 'no-staple' }), 1);
    const revoked = await probeOf('revoked');
    assert.equal(sample(revoked, 'probe_success'), 0);
    assert.equal(sample(revoked, 'probe_ocsp_cert_status', { status: 'revoked' }), 1);
  });

  it('refuses other ports, other hosts, odd spellings and names that resolve elsewhere, naming the rule', async (t) => {
    const url = await daemonWith(t, allowLocal());
    const port = servers.sound!.port;
    const cases: [string, number, string][] = [
      [`leaf.test:${port === 443 ? 444 : 443}`, 403, 'ports'],
      [`other.test:${port}`, 403, 'hosts'],
      [`127.1:${port}`, 403, 'ip-spelling'],
      [`0x7f.0.0.1:${port}`, 403, 'ip-spelling'],
      [`2130706433:${port}`, 403, 'ip-spelling'],
      [`[::1]:${port}`, 403, 'cidrs'],
      [`[::ffff:127.0.0.2]:${port}`, 403, 'special-address'],
      [`127.0.0.2:${port}`, 403, 'special-address'],
      [`rebind.test:${port}`, 403, 'special-address'],
      [`mixed.test:${port}`, 403, 'special-address'],
      [`leaf.test:${port}&servername=127.1`, 403, 'servername'],
      [`leaf.test:99999`, 400, 'target'],
    ];
    for (const [target, status, rule] of cases) {
      const r = await get(`${url}/probe?target=${target}`);
      assert.equal(r.status, status, `${target}: ${r.body}`);
      assert.equal(r.refusedBy, rule, target);
      assert.match(r.body, new RegExp(`^refused by rule ${rule}: `), target);
    }
    // The IPv4-mapped spelling of an allowed address is that address.
    assert.equal(sample(parseSamples((await get(`${url}/probe?target=[::ffff:127.0.0.1]:${port}&servername=leaf.test`)).body), 'probe_success'), 1);
    assert.equal(servers.sound!.connections() > 0, true);
  });

  it('resolves a name once and connects to the address it checked (DNS rebinding changes nothing)', async (t) => {
    const url = await daemonWith(t, allowLocal());
    rebindLookups = 0;
    const r = await get(`${url}/probe?target=rebinding.test:${servers.sound!.port}&servername=leaf.test`);
    assert.equal(sample(parseSamples(r.body), 'probe_success'), 1, r.body);
    assert.equal(rebindLookups, 1, 'one lookup per probe');
    const again = await get(`${url}/probe?target=rebinding.test:${servers.sound!.port}&servername=leaf.test`);
    assert.equal(again.refusedBy, 'special-address', 'the next probe sees the new answer, and refuses it');
  });

  it('stops reading a server that floods its certificate chain (OpenSSL caps the message): verdict error', async (t) => {
    const url = await daemonWith(t, allowLocal());
    const samples = parseSamples((await get(`${url}/probe?target=leaf.test:${servers.flood!.port}`)).body);
    assert.equal(sample(samples, 'probe_success'), 0);
    assert.equal(sample(samples, 'probe_ocsp_verdict', { verdict: 'error', reason: 'tls' }), 1);
  });

  it('follows no redirect: nothing connects to where the server points', async (t) => {
    const url = await daemonWith(t, allowLocal());
    const r = await get(`${url}/probe?target=leaf.test:${servers.redirect!.port}`);
    assert.equal(sample(parseSamples(r.body), 'probe_success'), 1, r.body);
    assert.equal(servers.elsewhere!.connections(), 0);
  });

  it('gives up on a server that never answers at probe.timeoutMs: probe_success 0, reason timeout', async (t) => {
    const url = await daemonWith(t, allowLocal({ timeoutMs: 300 }));
    const r = await get(`${url}/probe?target=leaf.test:${servers.hang!.port}`);
    assert.equal(r.status, 200);
    const samples = parseSamples(r.body);
    assert.equal(sample(samples, 'probe_success'), 0);
    assert.equal(sample(samples, 'probe_ocsp_verdict', { verdict: 'error', reason: 'timeout' }), 1);
  });

  it('runs at most probe.concurrency probes at once: the next is answered 429', async (t) => {
    const url = await daemonWith(t, allowLocal({ concurrency: 2, timeoutMs: 1_500 }));
    const before = servers.hang!.connections();
    const held = [1, 2].map(() => get(`${url}/probe?target=leaf.test:${servers.hang!.port}`));
    await waitFor('two probes holding connections', () => servers.hang!.connections() >= before + 2);
    const over = await get(`${url}/probe?target=leaf.test:${servers.sound!.port}`);
    assert.equal(over.status, 429, over.body);
    assert.equal(over.refusedBy, 'concurrency');
    for (const r of await Promise.all(held)) assert.equal(sample(parseSamples(r.body), 'probe_ocsp_verdict', { verdict: 'error', reason: 'timeout' }), 1);
    assert.equal(sample(parseSamples((await get(`${url}/probe?target=leaf.test:${servers.sound!.port}`)).body), 'probe_success'), 1, 'a slot is free again');
  });

  it('bounds the query: its length, unknown or repeated parameters, a missing target', async (t) => {
    const url = await daemonWith(t, allowLocal());
    const port = servers.sound!.port;
    assert.equal((await get(`${url}/probe?target=leaf.test:${port}&servername=${'a'.repeat(1100)}`)).status, 414);
    for (const [q, why] of [
      [`target=leaf.test:${port}&url=http://169.254.169.254/`, /unknown parameter "url"/],
      [`target=leaf.test:${port}&target=127.0.0.2:${port}`, /"target" is given twice/],
      ['servername=leaf.test', /target=host:port is required/],
    ] as const) {
      const r = await get(`${url}/probe?${q}`);
      assert.equal(r.status, 400, q);
      assert.match(r.body, why);
    }
    assert.equal((await request(`${url}/probe?target=leaf.test:${port}`, { method: 'POST' })).statusCode, 405);
  });

  it('is off unless probe.allow is configured', async (t) => {
    const url = await daemonWith(t, undefined);
    const connections = servers.sound!.connections();
    const r = await get(`${url}/probe?target=leaf.test:${servers.sound!.port}`);
    assert.equal(r.status, 404);
    assert.equal(r.refusedBy, 'off');
    assert.equal(servers.sound!.connections(), connections, 'no connection was made');
    const onlyTargets = await daemonWith(t, { targets: [] });
    assert.equal((await get(`${onlyTargets}/probe?target=leaf.test:${servers.sound!.port}`)).status, 404);
  });
});
