// verifyResponse at its boundaries and in its messages: each test kills a mutant that StrykerJS
// found alive in src/ocsp/verify.ts (`npm run mutation -- ocsp`, docs/contributing.md).

import assert from 'node:assert/strict';
import { createHash, sign as cryptoSign } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { InputError } from '../../src/ocsp/errors.ts';
import { DEFAULT_VERIFY_SETTINGS, verifyResponse, type Verdict, type VerifySettings } from '../../src/ocsp/verify.ts';
import { issue, makePki, type Issued, type TestPki } from '../support/pki.ts';
import { buildResponse, derTlv, type ResponseSpec } from '../support/responses.ts';

const HOUR = 3_600_000;
// The test PKI is dated from the real clock: take its "now", in whole seconds (what responses carry).
const NOW = Math.floor(Date.now() / 1000) * 1000;
const NONCE_OID = '1.3.6.1.5.5.7.48.1.2';

let pki: TestPki;
before(async () => {
  pki = await makePki({ ocspUrl: 'http://127.0.0.1:9/ocsp' });
});

const window = { thisUpdate: new Date(NOW - HOUR), nextUpdate: new Date(NOW + HOUR) };
const respond = (over: Partial<ResponseSpec> = {}): Buffer => buildResponse({ cert: pki.leaf, issuer: pki.intermediate, ...window, ...over });
const verify = (der: Uint8Array, settings?: Partial<VerifySettings>, now = NOW): Verdict =>
  verifyResponse(der, { certificate: pki.leaf.cert, issuer: pki.intermediate.cert, now, ...(settings ? { settings } : {}) });
const reasonOf = (v: Verdict): string => (v.ok ? 'ok' : v.reason);

describe('verifyResponse: extensions', () => {
  it('accepts each extension it understands even when marked critical, in the response and in the SingleResponse', () => {
    const understood = [
      '1.3.6.1.5.5.7.48.1.2', // nonce
      '1.3.6.1.5.5.7.48.1.9', // extended revoke
      '1.3.6.1.5.5.7.48.1.3', // crl
      '1.3.6.1.5.5.7.48.1.6', // archive cutoff
      '1.3.6.1.5.5.7.48.1.7', // service locator
      '2.5.29.21', // CRL reason
    ];
    const value = new Uint8Array([0x05, 0x00]);
    for (const oid of understood) {
      assert.equal(reasonOf(verify(respond({ responseExtensions: [{ oid, critical: true, value }] }))), 'ok', `${oid} in the response`);
      assert.equal(reasonOf(verify(respond({ extensions: [{ oid, critical: true, value }] }))), 'ok', `${oid} in the SingleResponse`);
    }
    // The control: one it does not understand.
    assert.equal(reasonOf(verify(respond({ responseExtensions: [{ oid: '1.2.3.4', critical: true, value }] }))), 'unknown-critical-extension');
  });

  it('finds the nonce among other extensions, and takes a raw nonce that happens to look like DER as raw bytes', () => {
    const nonce = Buffer.alloc(16, 7);
    const other = { oid: '1.3.6.1.5.5.7.48.1.3', value: new Uint8Array([0x05, 0x00]) };
    assert.equal(reasonOf(verify(respond({ responseExtensions: [other], nonce }), { nonce })), 'ok', 'the nonce after another extension');
    // Some responders put the nonce's raw bytes in extnValue; these raw bytes parse as an INTEGER.
    const rawLooksLikeInteger = new Uint8Array([0x02, 0x01, 0x05]);
    const raw = respond({ responseExtensions: [{ oid: NONCE_OID, value: rawLooksLikeInteger }] });
    assert.equal(reasonOf(verify(raw, { nonce: rawLooksLikeInteger })), 'ok');
    assert.equal(reasonOf(verify(raw, { nonce: new Uint8Array([0x05]) })), 'nonce-mismatch', 'not the INTEGER contents');
  });
});

describe('verifyResponse: bounds', () => {
  it('takes a response of exactly maxResponseBytes, and refuses one byte over', () => {
    const der = respond();
    assert.equal(reasonOf(verify(der, { maxResponseBytes: der.length })), 'ok');
    assert.equal(reasonOf(verify(der, { maxResponseBytes: der.length - 1 })), 'too-large');
  });

  it('takes maxResponseBytes from 1, and refuses 0 with an InputError naming the setting', () => {
    assert.equal(reasonOf(verify(respond(), { maxResponseBytes: 1 })), 'too-large');
    assert.throws(
      () => verify(respond(), { maxResponseBytes: 0 }),
      (e: unknown) => e instanceof InputError && /maxResponseBytes/.test(e.message),
    );
  });

  it('without nextUpdate, is stale exactly maxAgeWithoutNextUpdateMs after thisUpdate, and good one millisecond before', () => {
    const der = respond({ nextUpdate: null });
    const thisUpdate = Math.floor((NOW - HOUR) / 1000) * 1000;
    const end = thisUpdate + DEFAULT_VERIFY_SETTINGS.maxAgeWithoutNextUpdateMs;
    assert.equal(reasonOf(verify(der, undefined, end - 1)), 'ok');
    assert.equal(reasonOf(verify(der, undefined, end)), 'stale');
  });
});

describe('verifyResponse: delegated responders', () => {
  it('refuses a delegated responder certificate with an unknown critical extension, naming it', async () => {
    const { Extension } = await import('@peculiar/x509');
    const odd = await issue({
      name: 'Odd OCSP Responder',
      issuer: pki.intermediate,
      ocspSigning: true,
      extraExtensions: [new Extension('1.2.3.4.5.6', true, new Uint8Array([0x05, 0x00]))],
    });
    const v = verify(respond({ signer: odd }));
    assert.ok(!v.ok);
    assert.equal(v.reason, 'unauthorized-signer');
    assert.match(v.message, /"O=Stapler Test,CN=Odd OCSP Responder" has unknown critical extension 1\.2\.3\.4\.5\.6/);
    assert.equal(reasonOf(verify(respond({ signer: pki.delegated }))), 'ok', 'the control: a plain delegated responder');
  });
  it('refuses a delegated responder whose public key node:crypto cannot load, naming it', () => {
    // The delegated certificate with one bit of its EC point flipped (off the curve), signed
    // again by the issuer: it is issued, names itself and may sign OCSP, but has no usable key.
    const { der, cert } = pki.delegated;
    const at = der.indexOf(Buffer.from(cert.tbs)) + cert.tbs.length;
    const algorithm = der.subarray(at, at + 2 + der[at + 1]!);
    const signedAgain = (tbs: Buffer): Buffer =>
      derTlv(0x30, Buffer.concat([tbs, algorithm, derTlv(0x03, Buffer.concat([Buffer.of(0), cryptoSign('sha256', tbs, pki.intermediate.privateKey)]))]));
    const tbs = Buffer.from(cert.tbs);
    const point = tbs.indexOf(Buffer.from(cert.publicKeyBits));
    assert.ok(point > 0, 'the key is in the TBS');
    tbs[point + cert.publicKeyBits.length - 1]! ^= 1;
    const v = verify(respond({ signer: pki.delegated, certs: [], rawCerts: [signedAgain(tbs)] }));
    assert.ok(!v.ok);
    assert.equal(v.reason, 'bad-signature');
    assert.equal(v.message, 'the public key of "O=Stapler Test,CN=Stapler Test OCSP Responder" cannot be loaded to check the response signature');
    const control = signedAgain(Buffer.from(cert.tbs));
    assert.equal(
      reasonOf(verify(respond({ signer: pki.delegated, certs: [], rawCerts: [control] }))),
      'ok',
      'the control: the certificate signed again unchanged',
    );
  });
});

describe('verifyResponse: what its messages name', () => {
  it('lists the serials a mismatched response covers: the first five, then how many more', async () => {
    const others: Issued[] = [];
    for (let i = 0; i < 7; i++) others.push(await issue({ name: `other${i}.test`, issuer: pki.intermediate }));
    const single = (c: Issued): { cert: Issued; issuer: Issued } & typeof window => ({ cert: c, issuer: pki.intermediate, ...window });
    const one = verify(buildResponse({ ...single(others[0]!) }));
    assert.ok(!one.ok);
    assert.equal(one.reason, 'cert-id-mismatch');
    assert.match(one.message, new RegExp(`\\(response covers: ${others[0]!.cert.serialHex}\\)$`));
    const seven = verify(buildResponse({ ...single(others[0]!), extraSingles: others.slice(1).map(single) }));
    assert.ok(!seven.ok);
    const five = others.slice(0, 5).map((c) => c.cert.serialHex);
    assert.match(seven.message, new RegExp(`\\(response covers: ${five.join(', ')} and 2 more\\)$`));
  });
  it('says a response with no SingleResponse at all covers nothing', () => {
    const none = verify(respond({ noSingles: true }));
    assert.ok(!none.ok);
    assert.equal(none.reason, 'cert-id-mismatch');
    assert.match(none.message, /\(response covers: nothing\)$/);
  });

  it('names the responder ID it could not match: the key hash in hex, or that no certificate has the name', () => {
    const byKey = verify(respond({ signer: pki.delegated, responderIdBy: 'key', certs: [] }));
    assert.ok(!byKey.ok);
    assert.equal(byKey.reason, 'signer-not-found');
    const keyHash = createHash('sha1').update(pki.delegated.cert.publicKeyBits).digest('hex');
    assert.match(byKey.message, new RegExp(`byKey ${keyHash}`));
    const byName = verify(respond({ signer: pki.delegated, certs: [] }));
    assert.ok(!byName.ok);
    assert.match(byName.message, /byName \(a name no certificate has\)/);
  });
});
