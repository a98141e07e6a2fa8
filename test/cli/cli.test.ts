import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { verifyResponse } from '../../src/ocsp/verify.ts';
import { fullchain, makePki, type TestPki } from '../support/pki.ts';
import { TestResponder } from '../support/responder.ts';
import { buildResponse, statusOnlyResponse } from '../support/responses.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const VERDICT_KEYS = ['ok', 'reason', 'message', 'certStatus', 'serial', 'thisUpdate', 'nextUpdate', 'producedAt'];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function stapler(args: string[], stdin?: Buffer): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args],
      { cwd: ROOT, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 99) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (stdin) child.stdin?.end(stdin);
    else child.stdin?.end();
  });
}

let dir: string;
let pki: TestPki;
let responder: TestResponder;
const f = (name: string): string => join(dir, name);
const now = Date.now();
const HOUR = 3_600_000;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stapler-cli-'));
  responder = new TestResponder();
  pki = await makePki({ ocspUrl: await responder.listen() });
  responder.serve(pki);
  const window = { thisUpdate: new Date(now - 60_000), nextUpdate: new Date(now + 24 * HOUR) };
  await writeFile(f('fullchain.pem'), fullchain(pki.leaf, pki.intermediate));
  await writeFile(f('leaf.pem'), pki.leaf.pem);
  await writeFile(f('issuer.pem'), pki.intermediate.pem);
  await writeFile(f('root.pem'), pki.root.pem);
  await writeFile(f('no-aia.pem'), fullchain(pki.noAiaLeaf, pki.intermediate));
  await writeFile(f('key.pem'), pki.leaf.keyPem);
  await writeFile(f('good.der'), buildResponse({ cert: pki.leaf, issuer: pki.intermediate, ...window }));
  await writeFile(f('delegated.der'), buildResponse({ cert: pki.leaf, issuer: pki.intermediate, signer: pki.delegated, responderIdBy: 'key', ...window }));
  await writeFile(f('revoked.der'), buildResponse({ cert: pki.leaf, issuer: pki.intermediate, status: 'revoked', revocationReason: 1, ...window }));
  await writeFile(f('wrong-serial.der'), buildResponse({ cert: pki.leaf, issuer: pki.intermediate, serialHex: '0BADBAD0', ...window }));
  await writeFile(f('trylater.der'), statusOnlyResponse(3));
  await writeFile(f('page.html'), '<!DOCTYPE html><html><body>502 Bad Gateway</body></html>\n');
  await writeFile(f('empty.der'), '');
  await writeFile(f('corrupt.pem'), pki.leaf.pem.replace(/\n[A-Za-z0-9+/]{12}/, '\n!!!!!!!!!!!!'));
  await writeFile(f('huge.der'), '');
  await truncate(f('huge.der'), 50 * 1024 * 1024);
});
after(async () => {
  await responder.close();
  await rm(dir, { recursive: true, force: true });
});

function verdictOf(run: Run): Record<string, unknown> {
  const lines = run.stdout.trim().split('\n');
  assert.equal(lines.length, 1, `one JSON line expected, got: ${run.stdout}`);
  return JSON.parse(lines[0]!) as Record<string, unknown>;
}

function assertOneLineError(run: Run, file: string, reason: RegExp): void {
  assert.equal(run.code, 2, `exit code (stderr: ${run.stderr})`);
  const lines = run.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line expected: ${run.stderr}`);
  assert.ok(lines[0]!.includes(file), `names the file: ${lines[0]}`);
  assert.match(lines[0]!, reason);
  assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
}

describe('stapler inspect', () => {
  it('prints a readable dump', async () => {
    const run = await stapler(['inspect', f('delegated.der')]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /response status: successful/);
    assert.match(run.stdout, new RegExp(`serial ${pki.leaf.cert.serialHex}`));
    assert.match(run.stdout, /status:\s+good/);
    assert.match(run.stdout, /responder ID:\s+by key [0-9a-f]{40}/);
    assert.match(run.stdout, /OCSP signing: yes/);
  });
  it('prints JSON with --json, and reads standard input', async () => {
    const run = await stapler(['inspect', '--json', '-'], await readFile(f('revoked.der')));
    assert.equal(run.code, 0, run.stderr);
    const j = JSON.parse(run.stdout) as { responseStatus: string; responses: { serial: string; certStatus: string; revocationReason: string }[] };
    assert.equal(j.responseStatus, 'successful');
    assert.equal(j.responses[0]!.serial, pki.leaf.cert.serialHex);
    assert.equal(j.responses[0]!.certStatus, 'revoked');
    assert.equal(j.responses[0]!.revocationReason, 'keyCompromise');
  });
  it('shows a non-successful status', async () => {
    const run = await stapler(['inspect', f('trylater.der')]);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /response status: tryLater/);
  });
});

describe('stapler verify', () => {
  it('accepts a good response: exit 0 and the JSON verdict', async () => {
    const run = await stapler(['verify', '--cert', f('fullchain.pem'), f('good.der')]);
    assert.equal(run.code, 0, run.stderr);
    const v = verdictOf(run);
    assert.deepEqual(Object.keys(v), VERDICT_KEYS);
    assert.equal(v.ok, true);
    assert.equal(v.reason, null);
    assert.equal(v.certStatus, 'good');
    assert.equal(v.serial, pki.leaf.cert.serialHex);
    assert.equal(v.nextUpdate, new Date(Math.floor((now + 24 * HOUR) / 1000) * 1000).toISOString());
  });
  it('takes the issuer from --issuer', async () => {
    const run = await stapler(['verify', '--cert', f('leaf.pem'), '--issuer', f('issuer.pem'), f('delegated.der')]);
    assert.equal(run.code, 0, run.stderr);
    const v = verdictOf(run);
    assert.equal(v.ok, true);
    assert.equal(v.certStatus, 'good');
    assert.equal(v.serial, pki.leaf.cert.serialHex);
    // The leaf file alone has no issuer: without --issuer the same check cannot run.
    const without = await stapler(['verify', '--cert', f('leaf.pem'), f('delegated.der')]);
    assertOneLineError(without, 'leaf.pem', /holds no issuer .*give the full chain or --issuer/);
  });
  it('accepts a revoked response (it is stapleable) and says so', async () => {
    const run = await stapler(['verify', '--cert', f('fullchain.pem'), f('revoked.der')]);
    assert.equal(run.code, 0);
    const v = verdictOf(run);
    assert.equal(v.certStatus, 'revoked');
    assert.match(String(v.message), /REVOKED.*keyCompromise/);
  });
  it('rejects with exit 1 and a reason', async () => {
    const wrong = await stapler(['verify', '--cert', f('fullchain.pem'), f('wrong-serial.der')]);
    assert.equal(wrong.code, 1);
    assert.equal(verdictOf(wrong).reason, 'cert-id-mismatch');
    const later = await stapler(['verify', '--cert', f('fullchain.pem'), f('trylater.der')]);
    assert.equal(later.code, 1);
    assert.equal(verdictOf(later).reason, 'try-later');
  });
  it('--at moves every check in time, the responder certificate included', async () => {
    const expired = await stapler(['verify', '--cert', f('fullchain.pem'), '--at', new Date(now + 48 * HOUR).toISOString(), f('good.der')]);
    assert.equal(expired.code, 1);
    assert.equal(verdictOf(expired).reason, 'expired');
    // The delegated responder is valid from yesterday: an hour before then, it is not yet valid.
    const early = new Date(pki.delegated.cert.notBefore - HOUR).toISOString();
    const run = await stapler(['verify', '--cert', f('fullchain.pem'), '--at', early, '--skew', '86400', f('delegated.der')]);
    assert.equal(run.code, 1);
    assert.equal(verdictOf(run).reason, 'unauthorized-signer');
  });
  it('refuses a bad --at with exit 2', async () => {
    const run = await stapler(['verify', '--cert', f('fullchain.pem'), '--at', 'yesterday', f('good.der')]);
    assertOneLineError(run, '--at', /not an ISO 8601 time/);
  });
});

describe('stapler fetch', () => {
  it('fetches, verifies and writes the response with --out', async () => {
    responder.behaviour = 'good';
    const out = f('fetched.der');
    const run = await stapler(['fetch', '--cert', f('fullchain.pem'), '--out', out]);
    assert.equal(run.code, 0, run.stderr);
    const v = verdictOf(run);
    assert.equal(v.ok, true);
    assert.equal(v.certStatus, 'good');
    const der = await readFile(out);
    assert.ok(verifyResponse(der, { certificate: pki.leaf.cert, issuer: pki.intermediate.cert, now: Date.now() }).ok);
  });
  it('uses SHA-256 CertIDs with --sha256', async () => {
    responder.behaviour = 'good';
    const asked = responder.received.length;
    const run = await stapler(['fetch', '--cert', f('fullchain.pem'), '--sha256']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(verdictOf(run).ok, true);
    assert.deepEqual(
      responder.received.slice(asked).map((r) => r.hashes),
      [['sha256']],
    );
    const sha1 = await stapler(['fetch', '--cert', f('fullchain.pem')]);
    assert.equal(sha1.code, 0, sha1.stderr);
    assert.deepEqual(responder.received.at(-1)!.hashes, ['sha1'], 'SHA-1 without it');
  });
  it('takes the issuer from --issuer', async () => {
    responder.behaviour = 'good';
    const asked = responder.received.length;
    const run = await stapler(['fetch', '--cert', f('leaf.pem'), '--issuer', f('issuer.pem')]);
    assert.equal(run.code, 0, run.stderr);
    const v = verdictOf(run);
    assert.equal(v.ok, true);
    assert.equal(v.serial, pki.leaf.cert.serialHex);
    assert.deepEqual(
      responder.received.slice(asked).map((r) => r.serials),
      [[pki.leaf.cert.serialHex]],
    );
    assertOneLineError(await stapler(['fetch', '--cert', f('leaf.pem'), '--issuer', f('root.pem')]), 'root.pem', /holds no certificate that issued/);
  });
  it('writes nothing and exits 1 when no response is acceptable', async () => {
    responder.behaviour = 'tryLater';
    const out = f('not-written.der');
    const run = await stapler(['fetch', '--cert', f('fullchain.pem'), '--out', out]);
    assert.equal(run.code, 1);
    assert.equal(verdictOf(run).reason, 'try-later');
    assert.equal(existsSync(out), false);
  });
  it('reports a transport failure as a fetch-* reason', async () => {
    const run = await stapler(['fetch', '--cert', f('fullchain.pem'), '--url', 'http://127.0.0.1:1/ocsp', '--timeout', '2']);
    assert.equal(run.code, 1);
    assert.equal(verdictOf(run).reason, 'fetch-network');
  });
  it('exits 3 for a certificate with no OCSP responder', async () => {
    const run = await stapler(['fetch', '--cert', f('no-aia.pem')]);
    assert.equal(run.code, 3);
    assert.match(run.stderr, /names no OCSP responder/);
  });
  it('exits 3 for a certificate with no OCSP responder even without its chain', async () => {
    const leafOnly = join(dir, 'no-aia-leaf.pem');
    await writeFile(leafOnly, pki.noAiaLeaf.pem);
    const run = await stapler(['fetch', '--cert', leafOnly]);
    assert.equal(run.code, 3, run.stderr);
    assert.match(run.stderr, /names no OCSP responder/);
  });
  it('refuses an https: proxy with exit 2 (requests go to the proxy in plain HTTP)', async () => {
    assertOneLineError(await stapler(['fetch', '--cert', f('fullchain.pem'), '--proxy', 'https://127.0.0.1:3128']), '--proxy', /plain http:\/\/ proxy/);
  });
  it('refuses a bad --url or --timeout with exit 2', async () => {
    assertOneLineError(await stapler(['fetch', '--cert', f('fullchain.pem'), '--url', 'gopher://x/']), '--url', /http/);
    assertOneLineError(await stapler(['fetch', '--cert', f('fullchain.pem'), '--timeout', '0']), '--timeout', /seconds/);
  });
});

describe('bad input: one line naming the file and the reason, exit 2', () => {
  it('a corrupt PEM', async () => {
    assertOneLineError(await stapler(['verify', '--cert', f('corrupt.pem'), f('good.der')]), 'corrupt.pem', /invalid base64/);
  });
  it('a chain without the issuer', async () => {
    assertOneLineError(await stapler(['verify', '--cert', f('leaf.pem'), f('good.der')]), 'leaf.pem', /holds no issuer/);
  });
  it('an --issuer that did not issue the certificate', async () => {
    assertOneLineError(
      await stapler(['verify', '--cert', f('leaf.pem'), '--issuer', f('root.pem'), f('good.der')]),
      'root.pem',
      /holds no certificate that issued/,
    );
  });
  it('a private key given as the certificate', async () => {
    assertOneLineError(await stapler(['verify', '--cert', f('key.pem'), f('good.der')]), 'key.pem', /private key, not a certificate/);
  });
  it('a response file that holds HTML', async () => {
    assertOneLineError(await stapler(['verify', '--cert', f('fullchain.pem'), f('page.html')]), 'page.html', /not a DER OCSP response \(it looks like HTML\)/);
    assertOneLineError(await stapler(['inspect', f('page.html')]), 'page.html', /looks like HTML/);
  });
  it('an empty file', async () => {
    assertOneLineError(await stapler(['verify', '--cert', f('fullchain.pem'), f('empty.der')]), 'empty.der', /is empty/);
  });
  it('a 50 MB file', async () => {
    assertOneLineError(await stapler(['inspect', f('huge.der')]), 'huge.der', /50 MiB, over the 1 MiB limit/);
  });
  it('a file that does not exist, and a directory', async () => {
    assertOneLineError(await stapler(['inspect', f('missing.der')]), 'missing.der', /does not exist/);
    assertOneLineError(await stapler(['verify', '--cert', dir, f('good.der')]), dir, /is a directory/);
  });
  it('a usage error', async () => {
    const run = await stapler(['verify', f('good.der')]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /required option '--cert <pem>'/);
    assert.equal((await stapler(['frobnicate'])).code, 2);
    assert.equal((await stapler(['--help'])).code, 0);
  });
});
