// verifyResponse at its boundaries and in its messages: each test kills a mutant that StrykerJS
// found alive in src/ocsp/verify.ts (`npm run mutation -- ocsp`, docs/contributing.md).

import assert from 'node:assert/strict';
import { createHash, sign as cryptoSign } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { Certificate } from '../../src/ocsp/certificate.ts';
import { DerReader } from '../../src/ocsp/der.ts';
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
  // Certificates changed from issued ones (all ECDSA P-256 here) and signed again: the DER of
  // ecdsa-with-SHA256 and ecdsa-with-SHA1, and the TBS wrapped as a certificate signed by `by`.
  const ECDSA_SHA256 = Buffer.from('300a06082a8648ce3d040302', 'hex');
  const ECDSA_SHA1 = Buffer.from('300906072a8648ce3d0401', 'hex');
  const signedAgain = (tbs: Buffer, by: Issued = pki.intermediate, hash: 'sha256' | 'sha1' = 'sha256'): Buffer =>
    derTlv(
      0x30,
      Buffer.concat([tbs, hash === 'sha1' ? ECDSA_SHA1 : ECDSA_SHA256, derTlv(0x03, Buffer.concat([Buffer.of(0), cryptoSign(hash, tbs, by.privateKey)]))]),
    );
  /** The TBS with the last byte of `part` (found in it) changed: an EC point moved off its curve, a name's last letter. */
  const withLastByteOf = (tbs: Uint8Array, part: Uint8Array, change: (b: number) => number): Buffer => {
    const out = Buffer.from(tbs);
    const at = out.indexOf(Buffer.from(part));
    assert.ok(at > 0, 'the part is in the TBS');
    out[at + part.length - 1] = change(out[at + part.length - 1]!);
    return out;
  };
  /** A delegated response embedding `certs` (raw DER), its responder ID naming pki.delegated. */
  const viaDelegated = (certs: Buffer[], issuer: Issued = pki.intermediate): Buffer =>
    buildResponse({ cert: pki.leaf, issuer, ...window, signer: pki.delegated, certs: [], rawCerts: certs });

  it('refuses a delegated responder whose public key node:crypto cannot load, naming it', () => {
    assert.equal(pki.delegated.kind, 'ec-p256');
    const { cert } = pki.delegated;
    const odd = signedAgain(withLastByteOf(cert.tbs, cert.publicKeyBits, (b) => b ^ 1));
    const v = verify(viaDelegated([odd]));
    assert.ok(!v.ok);
    assert.equal(v.reason, 'bad-signature');
    assert.equal(v.message, 'the public key of "O=Stapler Test,CN=Stapler Test OCSP Responder" cannot be loaded to check the response signature');
    assert.equal(reasonOf(verify(viaDelegated([signedAgain(Buffer.from(cert.tbs))]))), 'ok', 'the control: the certificate signed again unchanged');
  });
  it('takes the embedded certificate the responder ID names, not the first one', () => {
    assert.equal(reasonOf(verify(viaDelegated([pki.leaf.der, pki.delegated.der]))), 'ok');
    assert.equal(reasonOf(verify(viaDelegated([pki.delegatedNoEku.der, pki.delegated.der]))), 'ok');
  });
  it("refuses a delegated responder that names another issuer, even when the issuer's key signed it", () => {
    // The issuer's name in the delegated certificate's TBS, its last letter changed, signed again by the issuer.
    const renamed = signedAgain(withLastByteOf(pki.delegated.cert.tbs, pki.intermediate.cert.subjectName, (b) => b + 1));
    const v = verify(viaDelegated([renamed]));
    assert.equal(reasonOf(v), 'unauthorized-signer');
    assert.match(v.ok ? '' : v.message, /is not issued by the certificate's issuer "O=Stapler Test,CN=Stapler Test Intermediate"$/);
  });
  it("refuses every delegated responder when the issuer's own key cannot be loaded (nothing can prove it issued them)", () => {
    const i = pki.intermediate;
    const oddDer = signedAgain(
      withLastByteOf(i.cert.tbs, i.cert.publicKeyBits, (b) => b ^ 1),
      pki.root,
    );
    const oddIssuer: Issued = { ...i, der: oddDer, cert: new Certificate(oddDer, 'odd intermediate') };
    const v = verifyResponse(viaDelegated([pki.delegated.der], oddIssuer), { certificate: pki.leaf.cert, issuer: oddIssuer.cert, now: NOW });
    assert.equal(reasonOf(v), 'unauthorized-signer');
    assert.match(v.ok ? '' : v.message, /is not issued by the certificate's issuer/);
  });
  it('remembers a proven delegated responder by its own bytes only: another embedded certificate never stands in for it', () => {
    // The first proves the delegated responder (cached), the leaf's bytes before it; the second
    // embeds only the leaf, still naming the responder: nothing there matches the responder ID.
    assert.equal(reasonOf(verify(viaDelegated([pki.leaf.der, pki.delegated.der]))), 'ok');
    assert.equal(reasonOf(verify(viaDelegated([pki.leaf.der]))), 'signer-not-found');
    assert.equal(reasonOf(verify(viaDelegated([pki.delegated.der]))), 'ok', 'the control: its own bytes');
  });
  it("accepts a delegated responder certificate the issuer signed with SHA-1 (the CA's choice; the response's own signature follows the settings)", () => {
    // The TBS's own signature field says ecdsa-with-SHA1 too (its length changes: the TBS is wrapped again).
    const { tlv } = DerReader.whole(pki.delegated.cert.tbs, 'tbs');
    const contents = Buffer.from(pki.delegated.cert.tbs.subarray(tlv.contentStart, tlv.end));
    const at = contents.indexOf(ECDSA_SHA256);
    assert.ok(at > 0);
    const tbs = derTlv(0x30, Buffer.concat([contents.subarray(0, at), ECDSA_SHA1, contents.subarray(at + ECDSA_SHA256.length)]));
    assert.equal(reasonOf(verify(viaDelegated([signedAgain(tbs, pki.intermediate, 'sha1')]), { allowSha1Signatures: false })), 'ok');
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

describe('verifyResponse: each time rule at the instant it turns', () => {
  const SEC = 1_000;
  const at = (thisUpdate: number, nextUpdate: number | null): Buffer =>
    respond({ thisUpdate: new Date(thisUpdate), nextUpdate: nextUpdate === null ? null : new Date(nextUpdate) });
  const skew = DEFAULT_VERIFY_SETTINGS.skewMs;
  const maxAge = DEFAULT_VERIFY_SETTINGS.maxAgeWithoutNextUpdateMs;

  it('nextUpdate equal to thisUpdate is a response valid until then; one second before it is malformed', () => {
    const same = verify(at(NOW + 60 * SEC, NOW + 60 * SEC));
    assert.ok(same.ok, reasonOf(same));
    assert.equal(same.validUntil, NOW + 60 * SEC);
    const before = verify(at(NOW + 60 * SEC, NOW + 59 * SEC));
    assert.equal(reasonOf(before), 'malformed');
    assert.equal(before.ok ? '' : before.message, 'nextUpdate is before thisUpdate');
  });
  it('thisUpdate up to the skew allowance ahead is accepted; a second more is not yet valid, and the message gives the allowance in seconds', () => {
    assert.equal(reasonOf(verify(at(NOW + skew, NOW + skew + HOUR))), 'ok');
    const ahead = verify(at(NOW + skew + SEC, NOW + skew + HOUR));
    assert.equal(reasonOf(ahead), 'not-yet-valid');
    assert.match(ahead.ok ? '' : ahead.message, /is in the future beyond the 300s skew allowance$/);
  });
  it('a response whose nextUpdate is now has expired; one a second later has not', () => {
    assert.equal(reasonOf(verify(at(NOW - HOUR, NOW))), 'expired');
    const later = verify(at(NOW - HOUR, NOW + SEC));
    assert.ok(later.ok, reasonOf(later));
    assert.equal(later.validUntil, NOW + SEC);
  });
  it('without nextUpdate: valid for the maximum age after thisUpdate, stale from that instant, and the message gives the age in seconds', () => {
    const young = verify(at(NOW - maxAge + SEC, null));
    assert.ok(young.ok, reasonOf(young));
    assert.equal(young.validUntil, NOW + SEC);
    const stale = verify(at(NOW - maxAge, null));
    assert.equal(reasonOf(stale), 'stale');
    assert.match(stale.ok ? '' : stale.message, /^no nextUpdate, and thisUpdate .* is older than 3600s$/);
  });
});

describe('verifyResponse: which SingleResponse names the certificate', () => {
  it('lists two covered serials with a comma', async () => {
    const [a, b] = [await issue({ name: 'a.test', issuer: pki.intermediate }), await issue({ name: 'b.test', issuer: pki.intermediate })];
    const two = verify(buildResponse({ cert: a, issuer: pki.intermediate, ...window, extraSingles: [{ cert: b, issuer: pki.intermediate, ...window }] }));
    assert.ok(!two.ok);
    assert.match(two.message, new RegExp(`\\(response covers: ${a.cert.serialHex}, ${b.cert.serialHex}\\)$`));
  });
  it('refuses a response from a CA that did not issue the certificate, even for its serial and signed by that CA', () => {
    // The root did not issue the leaf (the intermediate did): a CertID made from the root's name
    // and key, for the leaf's serial, signed by the root, names another certificate.
    const der = buildResponse({ cert: pki.leaf, issuer: pki.root, ...window });
    const v = verifyResponse(der, { certificate: pki.leaf.cert, issuer: pki.root.cert, now: NOW });
    assert.equal(reasonOf(v), 'cert-id-mismatch');
  });
});
