import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as pkijs from 'pkijs';
import { InputError } from '../../src/ocsp/errors.ts';
import { buildRequest, certIdFor, getUrl, getUrlIfShort, GET_URL_LIMIT } from '../../src/ocsp/request.ts';
import { makePki, type TestPki } from '../support/pki.ts';
import { parseOcspRequest } from '../support/responder.ts';
import '../support/responses.ts'; // sets the pkijs crypto engine

let pki: TestPki;
before(async () => {
  pki = await makePki({ ocspUrl: 'http://127.0.0.1:9/ocsp' });
});

async function pkijsRequest(hashAlgorithm: 'SHA-1' | 'SHA-256'): Promise<Buffer> {
  const req = new pkijs.OCSPRequest();
  await req.createForCertificate(pkijs.Certificate.fromBER(new Uint8Array(pki.leaf.der)), {
    hashAlgorithm,
    issuerCertificate: pkijs.Certificate.fromBER(new Uint8Array(pki.intermediate.der)),
  });
  return Buffer.from(req.toSchema(true).toBER());
}

describe('OCSP requests', () => {
  it('are byte-identical to pkijs (and so to openssl -no_nonce) with SHA-1', async () => {
    const ours = buildRequest(certIdFor(pki.leaf.cert, pki.intermediate.cert));
    assert.equal(ours.toString('hex'), (await pkijsRequest('SHA-1')).toString('hex'));
  });
  it('are byte-identical to pkijs with SHA-256', async () => {
    const ours = buildRequest(certIdFor(pki.leaf.cert, pki.intermediate.cert, 'sha256'));
    assert.equal(ours.toString('hex'), (await pkijsRequest('SHA-256')).toString('hex'));
  });
  it('carry a nonce that a foreign parser reads back', () => {
    const nonce = Buffer.alloc(32, 7);
    const der = buildRequest(certIdFor(pki.leaf.cert, pki.intermediate.cert), { nonce });
    const parsed = parseOcspRequest(der);
    assert.deepEqual(parsed.serials, [pki.leaf.cert.serialHex]);
    assert.ok(parsed.nonce?.equals(nonce));
  });
  it('refuse a nonce outside 1..32 bytes, and take one of 1 byte', () => {
    const id = certIdFor(pki.leaf.cert, pki.intermediate.cert);
    assert.throws(() => buildRequest(id, { nonce: Buffer.alloc(33) }), InputError);
    assert.throws(() => buildRequest(id, { nonce: Buffer.alloc(0) }), { name: 'InputError', message: 'nonce: must be 1 to 32 bytes' });
    assert.ok(parseOcspRequest(buildRequest(id, { nonce: Buffer.from([9]) })).nonce?.equals(Buffer.from([9])));
  });
  it('refuse an issuer that the certificate does not name, naming both', () => {
    assert.throws(() => certIdFor(pki.leaf.cert, pki.root.cert), {
      name: 'InputError',
      message: `issuer: "${pki.root.cert.subject}" is not the issuer named by the certificate ("${pki.leaf.cert.issuer}")`,
    });
  });
  it('refuse to ask about no certificate at all', () => {
    assert.throws(() => buildRequest([]), { name: 'InputError', message: 'request: needs at least one CertID' });
  });
  it('can ask about several certificates at once', () => {
    const der = buildRequest([certIdFor(pki.leaf.cert, pki.intermediate.cert), certIdFor(pki.rsaLeaf.cert, pki.intermediate.cert)]);
    assert.deepEqual(parseOcspRequest(der).serials, [pki.leaf.cert.serialHex, pki.rsaLeaf.cert.serialHex]);
  });
});

describe('the GET form', () => {
  it('is standard base64, URL-encoded, after a slash', () => {
    const der = buildRequest(certIdFor(pki.leaf.cert, pki.intermediate.cert));
    const b64 = der.toString('base64');
    assert.equal(getUrl('http://ocsp.test/x', der), `http://ocsp.test/x/${encodeURIComponent(b64)}`);
    assert.equal(getUrl('http://ocsp.test/', der), `http://ocsp.test/${encodeURIComponent(b64)}`);
    // Standard alphabet: '+' and '/' are percent-encoded, never replaced by '-' and '_'.
    const sample = Buffer.from([0xfb, 0xff, 0xbf]);
    assert.equal(getUrl('http://o', sample), 'http://o/%2B%2F%2B%2F');
  });
  it('is used only when the whole URL fits in 255 bytes', () => {
    const der = buildRequest(certIdFor(pki.leaf.cert, pki.intermediate.cert));
    const short = getUrlIfShort('http://ocsp.test', der);
    assert.ok(short && Buffer.byteLength(short) <= GET_URL_LIMIT);
    const base = `http://ocsp.test/${'p'.repeat(GET_URL_LIMIT)}`;
    assert.equal(getUrlIfShort(base, der), undefined);
    const exact = GET_URL_LIMIT - Buffer.byteLength(getUrl('http://o.test/', der));
    assert.ok(getUrlIfShort(`http://o.test/${'a'.repeat(exact - 1)}`, der));
    assert.equal(getUrlIfShort(`http://o.test/${'a'.repeat(exact)}`, der), undefined);
  });
});
