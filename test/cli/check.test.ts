import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createServer as createNetServer } from 'node:net';
import { createServer, type Server } from 'node:tls';
import { parseTarget } from '../../src/check/probe.ts';
import { fullchain, issue, makePki, type Issued, type TestPki } from '../support/pki.ts';
import { buildResponse } from '../support/responses.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
let pki: TestPki;
let dir: string;
const servers: Server[] = [];

function stapler(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, encoding: 'utf8' }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code) : 0, stdout, stderr }),
    );
  });
}

/** A TLS server that staples exactly `staple` (or nothing). */
async function serve(leaf: Issued, staple: Buffer | null): Promise<number> {
  const server = createServer({ cert: fullchain(leaf, pki.intermediate), key: leaf.keyPem }, (s) => s.end());
  server.on('OCSPRequest', (_cert: Buffer, _issuer: Buffer, cb: (err: null, resp?: Buffer) => void) => (staple ? cb(null, staple) : cb(null)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return (server.address() as AddressInfo).port;
}

const now = Date.now();
const window = { thisUpdate: new Date(now - 60_000), nextUpdate: new Date(now + 24 * 3_600_000) };

before(async () => {
  pki = await makePki({ ocspUrl: 'http://127.0.0.1:9/ocsp' });
  dir = await mkdtemp(join(tmpdir(), 'stapler-check-'));
  await writeFile(join(dir, 'root.pem'), pki.root.pem);
});
after(async () => {
  for (const s of servers) await new Promise<void>((resolve) => s.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

const check = (port: number, ...extra: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
  stapler([
    'check',
    `127.0.0.1:${port}`,
    '--servername',
    extra.includes('--must') ? 'must-staple.test' : 'leaf.test',
    '--ca',
    join(dir, 'root.pem'),
    ...extra.filter((e) => e !== '--must'),
  ]);

describe('stapler check', () => {
  it('a valid staple: exit 0, with the time left to nextUpdate', async () => {
    const port = await serve(pki.leaf, buildResponse({ cert: pki.leaf, issuer: pki.intermediate, ...window }));
    const run = await check(port, '--json');
    assert.equal(run.code, 0, run.stderr);
    const j = JSON.parse(run.stdout) as { ok: boolean; staple: { certStatus: string }; timeLeftSeconds: number; certificate: { serial: string } };
    assert.equal(j.ok, true);
    assert.equal(j.staple.certStatus, 'good');
    assert.equal(j.certificate.serial, pki.leaf.cert.serialHex);
    assert.ok(j.timeLeftSeconds > 23 * 3600 && j.timeLeftSeconds <= 24 * 3600);
    const text = await check(port, '--tls1.2');
    assert.equal(text.code, 0);
    assert.match(text.stdout, /TLSv1\.2/);
    assert.match(text.stdout, /valid staple: good, 23h \d+m until it expires/);
    assert.match(text.stdout, /verdict: OK/);
  });
  it('no staple: exit 1', async () => {
    const port = await serve(pki.leaf, null);
    const run = await check(port);
    assert.equal(run.code, 1);
    assert.match(run.stdout, /no staple/);
  });
  it('a Must-Staple certificate without a staple: exit 1, and says a strict client would refuse it', async () => {
    const port = await serve(pki.mustStapleLeaf, null);
    const run = await check(port, '--must', '--json');
    assert.equal(run.code, 1);
    const j = JSON.parse(run.stdout) as { mustStapleCompliant: boolean; summary: string; certificate: { mustStaple: boolean } };
    assert.equal(j.certificate.mustStaple, true);
    assert.equal(j.mustStapleCompliant, false);
    assert.match(j.summary, /Must-Staple.*Firefox/);
  });
  it("another certificate's staple: exit 1 with the reason", async () => {
    const port = await serve(pki.leaf, buildResponse({ cert: pki.rsaLeaf, issuer: pki.intermediate, ...window }));
    const run = await check(port, '--json');
    assert.equal(run.code, 1);
    const j = JSON.parse(run.stdout) as { staple: { reason: string } };
    assert.equal(j.staple.reason, 'cert-id-mismatch');
  });
  it('a revoked staple: exit 1', async () => {
    const port = await serve(pki.leaf, buildResponse({ cert: pki.leaf, issuer: pki.intermediate, status: 'revoked', ...window }));
    const run = await check(port);
    assert.equal(run.code, 1);
    assert.match(run.stdout, /REVOKED/);
  });
  it('a connection error or an untrusted chain: exit 2', async () => {
    const refused = await stapler(['check', '127.0.0.1:1', '--timeout', '3']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /ECONNREFUSED/);
    const port = await serve(pki.leaf, null);
    const untrusted = await stapler(['check', `127.0.0.1:${port}`, '--servername', 'leaf.test']);
    assert.equal(untrusted.code, 2);
    assert.match(untrusted.stderr, /certificate|issuer/i);
    const wrongName = await stapler(['check', `127.0.0.1:${port}`, '--servername', 'other.test', '--ca', join(dir, 'root.pem')]);
    assert.equal(wrongName.code, 2);
  });
  it('a plain-TCP port: exit 2, "not a TLS server"', async () => {
    const plain = createNetServer((c) => c.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    try {
      const run = await stapler(['check', `127.0.0.1:${(plain.address() as AddressInfo).port}`, '--timeout', '5']);
      assert.equal(run.code, 2);
      assert.match(run.stderr, /127\.0\.0\.1:\d+: not a TLS server/);
      assert.doesNotMatch(run.stderr, /wrong version number/);
    } finally {
      plain.close();
    }
  });
  it('a certificate with no OCSP URL: exit 3, as for every command', async () => {
    const bare = await issue({ name: 'leaf.test', issuer: pki.intermediate });
    const port = await serve(bare, null);
    const run = await check(port);
    assert.equal(run.code, 3, run.stdout + run.stderr);
    assert.match(run.stdout, /names no OCSP responder/);
  });
  it('--ca with a key, an empty file or no certificate: exit 2, naming the file', async () => {
    const port = await serve(pki.leaf, null);
    await writeFile(join(dir, 'key.pem'), pki.leaf.keyPem);
    await writeFile(join(dir, 'empty.pem'), '');
    for (const [name, reason] of [
      ['key.pem', /holds a private key/],
      ['empty.pem', /is empty/],
    ] as const) {
      const run = await stapler(['check', `127.0.0.1:${port}`, '--servername', 'leaf.test', '--ca', join(dir, name)]);
      assert.equal(run.code, 2, name);
      assert.match(run.stderr, new RegExp(`${name.replace('.', '\\.')}: `));
      assert.match(run.stderr, reason);
    }
  });
  it('--help names every exit code it can return, 3 (no OCSP responder) included', async () => {
    const help = await stapler(['check', '--help']);
    assert.equal(help.code, 0);
    const text = help.stdout.replace(/\s+/g, ' ');
    for (const code of [/exit 0 valid staple/, /1 missing, invalid or revoked/, /2 connection, TLS or usage error/, /3 no staple and no OCSP responder/])
      assert.match(text, code);
  });
  it('usage errors: exit 2', async () => {
    assert.equal((await stapler(['check', 'host:99999'])).code, 2);
    assert.equal((await stapler(['check', '127.0.0.1:443', '--tls1.2', '--tls1.3'])).code, 2);
  });
});

describe('parseTarget', () => {
  it('reads host:port, [v6]:port and a bare host', () => {
    assert.deepEqual(parseTarget('example.com:8443'), { host: 'example.com', port: 8443 });
    assert.deepEqual(parseTarget('[::1]:443'), { host: '::1', port: 443 });
    assert.deepEqual(parseTarget('example.com'), { host: 'example.com', port: 443 });
    assert.throws(() => parseTarget('a:b:c'), /not host:port/);
  });
});
