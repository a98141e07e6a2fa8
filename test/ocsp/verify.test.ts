import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { REJECT_REASONS, verifyResponse } from '../../src/ocsp/verify.ts';
import { issue } from '../support/pki.ts';
import { buildResponse } from '../support/responses.ts';
import { buildVectors, type VectorSet } from '../support/vectors.ts';

let set: VectorSet;
before(async () => {
  set = await buildVectors();
});

const HOUR = 3_600_000;

describe('verifyResponse on the vector catalogue', () => {
  it('gives every vector its expected verdict', () => {
    const wrong: string[] = [];
    for (const v of set.vectors) {
      const verdict = verifyResponse(v.der, { certificate: v.cert, issuer: v.issuer, now: set.now, settings: v.settings });
      const got = verdict.ok ? verdict.certStatus : verdict.reason;
      if (got !== v.expect) wrong.push(`${v.name}: expected ${v.expect}, got ${got}${verdict.ok ? '' : ` (${verdict.message})`}`);
      if (!verdict.ok) assert.ok(verdict.message.length > 0, v.name);
    }
    assert.deepEqual(wrong, []);
  });
  it('has a vector for every rejection reason', () => {
    const covered = new Set(set.vectors.map((v) => v.expect));
    assert.deepEqual(
      REJECT_REASONS.filter((r) => !covered.has(r)),
      [],
    );
  });
  it('covers every signature algorithm family', () => {
    const names = set.vectors.filter((v) => v.expect === 'good').map((v) => v.name);
    for (const kind of ['rsa-2048', 'rsa-pss', 'ec-p384', 'ec-p521', 'ed25519']) assert.ok(names.includes(`signed with ${kind}`), kind);
  });
});

describe('verdict details', () => {
  it('names the hash algorithms of the CertIDs that name the certificate (not of other certificates in the response)', () => {
    const { pki, now } = set;
    const window = { thisUpdate: new Date(now - HOUR), nextUpdate: new Date(now + HOUR) };
    const hashesOf = (der: Buffer): readonly string[] => {
      const v = verifyResponse(der, { certificate: pki.leaf.cert, issuer: pki.intermediate.cert, now });
      assert.ok(v.ok, v.ok ? '' : v.message);
      return v.certIdHashes;
    };
    assert.deepEqual(hashesOf(buildResponse({ cert: pki.leaf, issuer: pki.intermediate, ...window })), ['sha1']);
    assert.deepEqual(hashesOf(buildResponse({ cert: pki.leaf, issuer: pki.intermediate, certIdHash: 'sha256', ...window })), ['sha256']);
    const both = buildResponse({
      cert: pki.leaf,
      issuer: pki.intermediate,
      ...window,
      extraSingles: [
        { cert: pki.leaf, issuer: pki.intermediate, certIdHash: 'sha256', ...window },
        { cert: pki.rsaLeaf, issuer: pki.intermediate, certIdHash: 'sha512', ...window },
      ],
    });
    assert.deepEqual(hashesOf(both), ['sha1', 'sha256']);
  });
  it('reports the window, the signer and the revocation', async () => {
    const { pki, now } = set;
    const der = buildResponse({
      cert: pki.leaf,
      issuer: pki.intermediate,
      status: 'revoked',
      revocationTime: new Date(now - 2 * HOUR),
      revocationReason: 4,
      thisUpdate: new Date(now - HOUR),
      nextUpdate: new Date(now + HOUR),
    });
    const v = verifyResponse(der, { certificate: pki.leaf.cert, issuer: pki.intermediate.cert, now });
    assert.ok(v.ok);
    assert.equal(v.certStatus, 'revoked');
    assert.equal(v.revocationReason, 4);
    assert.equal(v.revocationTime, Math.floor((now - 2 * HOUR) / 1000) * 1000);
    assert.equal(v.validUntil, v.nextUpdate);
    assert.equal(v.signer, 'issuer');
    assert.equal(v.signerNotAfter, pki.intermediate.cert.notAfter);
    assert.equal(v.serial, pki.leaf.cert.serialHex);
  });
  it('gives a response without nextUpdate the configured lifetime', async () => {
    const { pki, now } = set;
    const der = buildResponse({ cert: pki.leaf, issuer: pki.intermediate, thisUpdate: new Date(now - HOUR), nextUpdate: null });
    const input = { certificate: pki.leaf.cert, issuer: pki.intermediate.cert, now };
    assert.equal(verifyResponse(der, input).ok, false);
    const v = verifyResponse(der, { ...input, settings: { maxAgeWithoutNextUpdateMs: 2 * HOUR } });
    assert.ok(v.ok);
    assert.equal(v.validUntil, Math.floor((now - HOUR) / 1000) * 1000 + 2 * HOUR);
  });
  it('applies the skew setting to thisUpdate', async () => {
    const { pki, now } = set;
    const der = buildResponse({ cert: pki.leaf, issuer: pki.intermediate, thisUpdate: new Date(now + 10 * 60_000), nextUpdate: new Date(now + HOUR) });
    const input = { certificate: pki.leaf.cert, issuer: pki.intermediate.cert, now };
    assert.equal(verifyResponse(der, input).ok, false);
    assert.equal(verifyResponse(der, { ...input, settings: { skewMs: 15 * 60_000 } }).ok, true);
  });
  it("checks the delegated responder's validity at the verification time", async () => {
    const { pki, now } = set;
    const shortLived = await issue({
      name: 'Short-lived Responder',
      issuer: pki.intermediate,
      ocspSigning: true,
      notBefore: new Date(now - HOUR),
      notAfter: new Date(now + HOUR),
    });
    const der = buildResponse({
      cert: pki.leaf,
      issuer: pki.intermediate,
      signer: shortLived,
      thisUpdate: new Date(now - 60_000),
      nextUpdate: new Date(now + 24 * HOUR),
    });
    const input = { certificate: pki.leaf.cert, issuer: pki.intermediate.cert };
    const atNow = verifyResponse(der, { ...input, now });
    assert.ok(atNow.ok);
    assert.equal(atNow.signer, 'delegated');
    assert.equal(atNow.signerNotAfter, shortLived.cert.notAfter);
    const later = verifyResponse(der, { ...input, now: now + 2 * HOUR });
    assert.equal(later.ok ? 'ok' : later.reason, 'unauthorized-signer');
  });
  it('keeps rejecting a delegated responder from the cache once it expires', async () => {
    const { pki, now } = set;
    const der = buildResponse({
      cert: pki.leaf,
      issuer: pki.intermediate,
      signer: pki.delegated,
      thisUpdate: new Date(now - 60_000),
      nextUpdate: new Date(now + 24 * HOUR),
    });
    const input = { certificate: pki.leaf.cert, issuer: pki.intermediate.cert };
    assert.ok(verifyResponse(der, { ...input, now }).ok);
    const afterExpiry = pki.delegated.cert.notAfter + 1000;
    const v = verifyResponse(der, { ...input, now: afterExpiry });
    assert.equal(v.ok ? 'ok' : v.reason, 'unauthorized-signer');
  });
  it('never throws, and keeps the facts it could read', () => {
    const { pki, now } = set;
    const tryLater = set.vectors.find((v) => v.expect === 'try-later')!;
    const v = verifyResponse(tryLater.der, { certificate: pki.leaf.cert, issuer: pki.intermediate.cert, now });
    assert.equal(v.ok, false);
    assert.equal(v.serial, pki.leaf.cert.serialHex);
    assert.equal(v.certStatus, null);
    const wrong = set.vectors.find((v) => v.expect === 'expired')!;
    const e = verifyResponse(wrong.der, { certificate: wrong.cert, issuer: wrong.issuer, now });
    assert.equal(e.certStatus, 'good');
    assert.ok(e.nextUpdate !== null && e.nextUpdate <= now);
  });
});
