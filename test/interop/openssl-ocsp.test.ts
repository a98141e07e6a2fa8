// Interop with a responder we did not write: `openssl ocsp` answers our requests, and we
// verify what it signs (directly and through `openssl ocsp -respout`).

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fetchStaple } from '../../src/fetch/fetch-staple.ts';
import { OcspHttpClient } from '../../src/fetch/http.ts';
import { buildRequest, certIdFor } from '../../src/ocsp/request.ts';
import { verifyResponse } from '../../src/ocsp/verify.ts';
import { issue, makePki, type Issued, type TestPki } from '../support/pki.ts';
import { openssl, startOpensslResponder, type OpensslResponder } from '../support/openssl.ts';
import { peerSkip } from '../support/peers.ts';

const skip = peerSkip('openssl');
if (skip) console.log(`# skipping openssl interop: ${skip}`);

let dir: string;
let pki: TestPki;
let unlisted: Issued;
let delegatedResponder: OpensslResponder;
let issuerResponder: OpensslResponder;
let client: OcspHttpClient;

const EXPIRY = '301231235959Z';

before(async () => {
  if (skip) return;
  dir = await mkdtemp(join(tmpdir(), 'stapler-openssl-'));
  pki = await makePki({ ocspUrl: 'http://127.0.0.1:1/unused' });
  unlisted = await issue({ name: 'unlisted.test', issuer: pki.intermediate });
  for (const [name, c] of Object.entries(pki) as [string, Issued][]) {
    await writeFile(join(dir, `${name}.pem`), c.pem);
    await writeFile(join(dir, `${name}.key`), c.keyPem);
  }
  await writeFile(join(dir, 'unlisted.pem'), unlisted.pem);
  const index = [
    `V\t${EXPIRY}\t\t${pki.leaf.cert.serialHex}\tunknown\t/CN=leaf.test`,
    `V\t${EXPIRY}\t\t${pki.mustStapleLeaf.cert.serialHex}\tunknown\t/CN=must-staple.test`,
    `R\t${EXPIRY}\t251121120000Z,keyCompromise\t${pki.rsaLeaf.cert.serialHex}\tunknown\t/CN=rsa.test`,
  ];
  await writeFile(join(dir, 'index.txt'), `${index.join('\n')}\n`);
  delegatedResponder = await startOpensslResponder({ cwd: dir, index: 'index.txt', ca: 'intermediate.pem', rsigner: 'delegated.pem', rkey: 'delegated.key' });
  issuerResponder = await startOpensslResponder({
    cwd: dir,
    index: 'index.txt',
    ca: 'intermediate.pem',
    rsigner: 'intermediate.pem',
    rkey: 'intermediate.key',
  });
  client = new OcspHttpClient({ timeoutMs: 5_000 });
});

after(async () => {
  if (skip) return;
  await client.close();
  await delegatedResponder.stop();
  await issuerResponder.stop();
  await rm(dir, { recursive: true, force: true });
});

function fetchFrom(responder: OpensslResponder, leaf: Issued, hash: 'sha1' | 'sha256' = 'sha1'): ReturnType<typeof fetchStaple> {
  return fetchStaple({ certificate: leaf.cert, issuer: pki.intermediate.cert, client, urls: [responder.url], hash, now: Date.now });
}

describe('openssl ocsp as the responder', { skip }, () => {
  it('answers our GET request with a response we accept (delegated signer)', async () => {
    const result = await fetchFrom(delegatedResponder, pki.leaf);
    assert.ok(result.accepted, JSON.stringify(result.attempts.map((a) => (a.ok ? a.verdict : a.error.message))));
    assert.equal(result.accepted.response.method, 'GET');
    assert.equal(result.accepted.verdict.certStatus, 'good');
    assert.equal(result.accepted.verdict.signer, 'delegated');
  });
  it('answers a SHA-256 CertID, signed by the issuer itself', async () => {
    const result = await fetchFrom(issuerResponder, pki.leaf, 'sha256');
    assert.ok(result.accepted);
    assert.equal(result.accepted.verdict.signer, 'issuer');
  });
  it('reports a revocation from its index', async () => {
    const result = await fetchFrom(delegatedResponder, pki.rsaLeaf);
    assert.ok(result.accepted);
    assert.equal(result.accepted.verdict.certStatus, 'revoked');
    assert.equal(result.accepted.verdict.revocationReason, 1);
    assert.equal(result.accepted.verdict.revocationTime, Date.UTC(2025, 10, 21, 12));
  });
  it('says unknown for a certificate not in its index, and we refuse that', async () => {
    const result = await fetchFrom(delegatedResponder, unlisted);
    assert.equal(result.accepted, null);
    const a = result.attempts[0]!;
    assert.ok(a.ok);
    assert.equal(!a.verdict.ok && a.verdict.reason, 'status-unknown');
  });
  it('echoes our nonce', async () => {
    const result = await fetchStaple({
      certificate: pki.leaf.cert,
      issuer: pki.intermediate.cert,
      client,
      urls: [delegatedResponder.url],
      nonce: true,
      now: Date.now,
    });
    assert.ok(result.accepted);
  });
});

describe('openssl ocsp as the client', { skip }, () => {
  it('saves responses with -respout that we verify', async () => {
    const run = await openssl(
      ['ocsp', '-issuer', 'intermediate.pem', '-cert', 'mustStapleLeaf.pem', '-url', issuerResponder.url, '-respout', 'resp.der', '-noverify'],
      dir,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /mustStapleLeaf\.pem: good/);
    const der = await readFile(join(dir, 'resp.der'));
    const v = verifyResponse(der, { certificate: pki.mustStapleLeaf.cert, issuer: pki.intermediate.cert, now: Date.now() });
    assert.ok(v.ok, v.ok ? '' : v.message);
  });
  it('parses our request and reads the same serial', async () => {
    const req = buildRequest(certIdFor(pki.leaf.cert, pki.intermediate.cert), { nonce: Buffer.alloc(32, 9) });
    await writeFile(join(dir, 'req.der'), req);
    const run = await openssl(['ocsp', '-reqin', 'req.der', '-req_text', '-noverify'], dir);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`Serial Number: ${pki.leaf.cert.serialHex}`));
    assert.match(run.stdout, /Hash Algorithm: sha1/);
    assert.match(run.stdout, /OCSP Nonce:\s+0420(09){32}/i);
  });
});
