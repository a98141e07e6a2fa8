// Real handshakes: a Node client with requestOCSP and `openssl s_client -status`, against tls,
// https and http2 servers stapling through Stapler, with a real HTTP responder on loopback.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createSecureServer } from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createServer, type Server, type TlsOptions } from 'node:tls';
import type { Logger } from '../../src/engine/logger.ts';
import { Stapler } from '../../src/node/stapler.ts';
import type { StaplerOptions } from '../../src/node/options.ts';
import { verifyResponse } from '../../src/ocsp/verify.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { peerSkip } from '../support/peers.ts';
import { caRig } from '../support/ca-rig.ts';
import { fullchain, issue, type Issued, type TestPki } from '../support/pki.ts';
import type { TestResponder } from '../support/responder.ts';
import { handshake, opensslStatus } from '../support/tls.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const noOpenssl = peerSkip('openssl');

let pki: TestPki;
let responder: TestResponder;
let dir: string;
const cleanups: (() => Promise<unknown> | void)[] = [];

before(async () => {
  ({ pki, responder } = await caRig());
  dir = await mkdtemp(join(tmpdir(), 'stapler-tls-'));
});
after(async () => {
  for (const c of cleanups.reverse()) await c();
  await responder.close();
  await rm(dir, { recursive: true, force: true });
});

interface LogLine {
  level: string;
  message: string;
}
function logger(lines: LogLine[] = []): Logger {
  const at = (level: string) => (_fields: Record<string, unknown>, message: string) => void lines.push({ level, message });
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

function newStapler(options: Partial<StaplerOptions> = {}): Stapler {
  const s = new Stapler({ store: 'memory', logger: logger(), timeoutMs: 500, deadlineMs: 1_000, ...options });
  cleanups.push(() => s.close());
  return s;
}

function tlsOptions(leaf: Issued): TlsOptions {
  return { cert: fullchain(leaf, pki.intermediate), key: leaf.keyPem };
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

async function stapledServer(leaf: Issued = pki.leaf, options: Partial<StaplerOptions> = {}): Promise<{ port: number; stapler: Stapler; server: Server }> {
  responder.behaviour = 'good';
  const stapler = newStapler(options);
  await stapler.add(fullchain(leaf, pki.intermediate));
  const server = createServer(tlsOptions(leaf), (s) => s.end());
  stapler.attach(server);
  await stapler.ready({ timeout: 5_000 });
  return { port: await listen(server), stapler, server };
}

function accepted(staple: Buffer | null, leaf: Issued = pki.leaf): boolean {
  return staple !== null && verifyResponse(staple, { certificate: leaf.cert, issuer: pki.intermediate.cert, now: Date.now() }).ok;
}

function stapler_verify(stapleFile: string, certFile: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'verify', '--cert', certFile, stapleFile],
      { cwd: ROOT, encoding: 'utf8' },
      (err, stdout) => resolve({ code: err ? Number(err.code) : 0, stdout }),
    );
  });
}

describe('stapling on a tls.Server', () => {
  for (const version of ['1.3', '1.2'] as const) {
    it(`staples on the very first handshake after ready(), over TLS ${version}; stapler verify accepts it`, async () => {
      const { port } = await stapledServer();
      const h = await handshake(port, { tls: version });
      assert.equal(h.protocol, `TLSv${version}`);
      assert.ok(accepted(h.staple), 'a valid staple on the first handshake');
      const stapleFile = join(dir, `staple-${version}.der`);
      const certFile = join(dir, 'fullchain.pem');
      await writeFile(stapleFile, h.staple!);
      await writeFile(certFile, fullchain(pki.leaf, pki.intermediate));
      const v = await stapler_verify(stapleFile, certFile);
      assert.equal(v.code, 0, v.stdout);
      assert.equal((JSON.parse(v.stdout) as { certStatus: string }).certStatus, 'good');
    });
    it(`openssl s_client -status shows a successful response over TLS ${version}`, { skip: noOpenssl }, async () => {
      const { port } = await stapledServer();
      const s = await opensslStatus(port, { tls: version });
      assert.equal(s.responseStatus, 'successful', s.output);
      assert.equal(s.certStatus, 'good');
    });
  }
});

describe('stapling on https and http2 servers', () => {
  it('https.Server', async () => {
    const stapler = newStapler();
    await stapler.add(fullchain(pki.leaf, pki.intermediate));
    const server = createHttpsServer(tlsOptions(pki.leaf), (_req, res) => res.end('ok'));
    stapler.attach(server);
    await stapler.ready({ timeout: 5_000 });
    const port = await listen(server);
    assert.ok(accepted((await handshake(port)).staple));
  });
  it('http2.createSecureServer', async () => {
    const stapler = newStapler();
    await stapler.add(fullchain(pki.leaf, pki.intermediate));
    const server = createSecureServer({ ...tlsOptions(pki.leaf), allowHTTP1: false });
    stapler.attach(server);
    await stapler.ready({ timeout: 5_000 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as AddressInfo).port;
    assert.ok(accepted((await handshake(port, { alpn: ['h2'] })).staple));
  });
});

describe('several certificates', () => {
  it('addContext: each SNI name gets its own certificate and its own staple', async () => {
    const stapler = newStapler();
    await stapler.add(fullchain(pki.leaf, pki.intermediate));
    await stapler.add(fullchain(pki.mustStapleLeaf, pki.intermediate));
    const server = createServer(tlsOptions(pki.leaf), (s) => s.end());
    server.addContext('must-staple.test', tlsOptions(pki.mustStapleLeaf));
    stapler.attach(server);
    await stapler.ready({ timeout: 5_000 });
    const port = await listen(server);
    const a = await handshake(port, { servername: 'leaf.test' });
    const b = await handshake(port, { servername: 'must-staple.test' });
    assert.equal(a.peerSerial, pki.leaf.cert.serialHex);
    assert.equal(b.peerSerial, pki.mustStapleLeaf.cert.serialHex);
    assert.ok(accepted(a.staple, pki.leaf));
    assert.ok(accepted(b.staple, pki.mustStapleLeaf));
  });
  it('SNICallback: the staple follows the certificate chosen', async () => {
    const { createSecureContext } = await import('node:tls');
    const contexts = new Map([
      ['leaf.test', createSecureContext(tlsOptions(pki.leaf))],
      ['must-staple.test', createSecureContext(tlsOptions(pki.mustStapleLeaf))],
    ]);
    const stapler = newStapler();
    await stapler.add(fullchain(pki.leaf, pki.intermediate));
    await stapler.add(fullchain(pki.mustStapleLeaf, pki.intermediate));
    const server = createServer({ ...tlsOptions(pki.leaf), SNICallback: (name, cb) => cb(null, contexts.get(name) ?? contexts.get('leaf.test')) }, (s) =>
      s.end(),
    );
    stapler.attach(server);
    await stapler.ready({ timeout: 5_000 });
    const port = await listen(server);
    const b = await handshake(port, { servername: 'must-staple.test' });
    assert.equal(b.peerSerial, pki.mustStapleLeaf.cert.serialHex);
    assert.ok(accepted(b.staple, pki.mustStapleLeaf));
  });
  it('warns about one context with several certificates', async () => {
    const lines: LogLine[] = [];
    const stapler = newStapler({ logger: logger(lines) });
    const server = createServer({
      cert: [fullchain(pki.leaf, pki.intermediate), fullchain(pki.rsaLeaf, pki.intermediate)],
      key: [pki.leaf.keyPem, pki.rsaLeaf.keyPem],
    });
    stapler.attach(server);
    assert.ok(lines.some((l) => l.level === 'warn' && /several certificates in one context/.test(l.message)));
  });
  it('warns on Node 20/22 about SNI contexts of another key type (nodejs/node#54235)', async (t) => {
    if (Number(process.versions.node.split('.')[0]) >= 24) return t.skip('runtime: fixed in Node 24');
    const lines: LogLine[] = [];
    const stapler = newStapler({ logger: logger(lines) });
    const server = createServer(tlsOptions(pki.leaf));
    stapler.attach(server);
    server.addContext('rsa.test', tlsOptions(pki.rsaLeaf));
    server.addContext('must-staple.test', tlsOptions(pki.mustStapleLeaf));
    const warnings = lines.filter((l) => l.level === 'warn' && /54235/.test(l.message));
    assert.equal(warnings.length, 1, 'only the RSA context differs from the ECDSA default');
  });
});

describe('faults', () => {
  it('responder down: the staple is still served', async () => {
    const { port, stapler } = await stapledServer();
    responder.behaviour = 'hang';
    await stapler.refreshNow(fullchain(pki.leaf, pki.intermediate));
    assert.equal(stapler.status()[0]!.state, 'stapled-refresh-failing');
    assert.ok(accepted((await handshake(port)).staple));
    responder.behaviour = 'good';
  });
  it('past nextUpdate: no staple', { skip: noOpenssl }, async () => {
    const clock = new FakeClock(Date.now());
    responder.now = () => clock.now();
    try {
      const { port, stapler } = await stapledServer(pki.leaf, { clock });
      assert.ok((await handshake(port)).staple);
      responder.behaviour = 'http-500';
      await clock.advanceTo(stapler.status()[0]!.validUntil!);
      await stapler.idle();
      assert.equal(stapler.status()[0]!.state, 'unstapled');
      assert.equal((await handshake(port)).staple, null);
      const s = await opensslStatus(port);
      assert.equal(s.stapled, false, s.output);
    } finally {
      responder.now = () => Date.now();
      responder.behaviour = 'good';
    }
  });
  for (const behaviour of ['wrong-serial', 'bad-signature', 'expired', 'unauthorized-signer'] as const) {
    it(`${behaviour}: never stapled`, async () => {
      const stapler = newStapler();
      responder.behaviour = behaviour;
      await stapler.add(fullchain(pki.leaf, pki.intermediate));
      const server = createServer(tlsOptions(pki.leaf), (s) => s.end());
      stapler.attach(server);
      const report = await stapler.ready({ timeout: 2_000 });
      assert.equal(report.unstapled.length, 1);
      const port = await listen(server);
      assert.equal((await handshake(port)).staple, null);
      responder.behaviour = 'good';
    });
  }
  it('a lookup that throws costs the handshake its staple, not the process', async () => {
    const { port, stapler } = await stapledServer();
    stapler.stapleFor = () => {
      throw new Error('simulated bug');
    };
    const h = await handshake(port);
    assert.equal(h.staple, null);
  });
});

describe('restart', () => {
  it('staples from disk before any fetch', async () => {
    const storeDir = join(dir, 'restart-store');
    const first = await stapledServer(pki.leaf, { store: { directory: storeDir } });
    const before = first.stapler.stapleFor(pki.leaf.der);
    await first.stapler.close();
    responder.behaviour = 'hang';
    const requests = responder.requestCount;
    try {
      const stapler = newStapler({ store: { directory: storeDir } });
      await stapler.add(fullchain(pki.leaf, pki.intermediate));
      const server = createServer(tlsOptions(pki.leaf), (s) => s.end());
      stapler.attach(server);
      const port = await listen(server);
      const h = await handshake(port); // no ready(): straight from the store
      assert.deepEqual(h.staple, before);
      assert.equal(responder.requestCount, requests, 'no fetch: the stored staple is fresh');
    } finally {
      responder.behaviour = 'good';
    }
  });
});

describe('certificates not added', () => {
  it('are registered at their first handshake (no staple, no wait), and stapled after', async () => {
    const other = await issue({ name: 'late.test', issuer: pki.intermediate, ocspUrls: [responder.url] });
    responder.serve(pki, [other]);
    const stapler = newStapler();
    const server = createServer(tlsOptions(other), (s) => s.end());
    stapler.attach(server);
    const port = await listen(server);
    const first = await handshake(port);
    assert.equal(first.staple, null);
    for (let i = 0; i < 50 && stapler.status()[0]?.state !== 'stapled'; i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(accepted((await handshake(port)).staple, other));
  });
});
