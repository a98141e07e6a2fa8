// Reading OCSP requests: ours, pkijs's and openssl's are read back to the same CertIDs; every
// malformed one is a DerError that names the field.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import * as pkijs from 'pkijs';
import { ctx, DerBudget, DerError, DerReader, TAG, type Tlv } from '../../src/ocsp/der.ts';
import { derNull, integerFromContent, octetString, oid, sequence, tlv } from '../../src/ocsp/der-writer.ts';
import { OID } from '../../src/ocsp/oids.ts';
import { parseRequest, REQUEST_CAPS } from '../../src/ocsp/request-parse.ts';
import { buildRequest, certIdFor, encodeCertId, type CertId } from '../../src/ocsp/request.ts';
import { openssl } from '../support/openssl.ts';
import { peerSkip } from '../support/peers.ts';
import { makePki, type TestPki } from '../support/pki.ts';
import '../support/responses.ts'; // sets the pkijs crypto engine

let pki: TestPki;
let sha1: CertId;
let sha256: CertId;
before(async () => {
  pki = await makePki({ ocspUrl: 'http://127.0.0.1:9/ocsp' });
  sha1 = certIdFor(pki.leaf.cert, pki.intermediate.cert);
  sha256 = certIdFor(pki.leaf.cert, pki.intermediate.cert, 'sha256');
});

function sameId(got: CertId, want: CertId): void {
  assert.equal(got.hash, want.hash);
  assert.deepEqual(Buffer.from(got.issuerNameHash), Buffer.from(want.issuerNameHash));
  assert.deepEqual(Buffer.from(got.issuerKeyHash), Buffer.from(want.issuerKeyHash));
  assert.deepEqual(Buffer.from(got.serial), Buffer.from(want.serial));
}

function refused(der: Uint8Array, field: RegExp): void {
  assert.throws(
    () => parseRequest(der),
    (err: unknown) => err instanceof DerError && field.test(err.field),
    `expected a DerError naming ${String(field)}`,
  );
}

/** A request from its parts: tbsRequest items, and what follows tbsRequest. */
const request = (tbs: Buffer[], after: Buffer[] = []): Buffer => sequence(sequence(...tbs), ...after);
const list = (...ids: CertId[]): Buffer => sequence(...ids.map((id) => sequence(encodeCertId(id))));

describe('reading OCSP requests', () => {
  it('reads ours, SHA-1 and SHA-256, with and without a nonce', () => {
    for (const id of [sha1, sha256]) {
      const plain = parseRequest(buildRequest(id));
      assert.equal(plain.certIds.length, 1);
      sameId(plain.certIds[0]!, id);
      assert.equal(plain.hasNonce, false);
      const withNonce = parseRequest(buildRequest(id, { nonce: Buffer.alloc(32, 1) }));
      sameId(withNonce.certIds[0]!, id);
      assert.equal(withNonce.hasNonce, true);
    }
    assert.equal(parseRequest(buildRequest([sha1, sha256])).certIds.length, 2);
  });

  it("reads pkijs's requests (SHA-1 and SHA-256)", async () => {
    for (const [hashAlgorithm, id] of [
      ['SHA-1', sha1],
      ['SHA-256', sha256],
    ] as const) {
      const req = new pkijs.OCSPRequest();
      await req.createForCertificate(pkijs.Certificate.fromBER(new Uint8Array(pki.leaf.der)), {
        hashAlgorithm,
        issuerCertificate: pkijs.Certificate.fromBER(new Uint8Array(pki.intermediate.der)),
      });
      sameId(parseRequest(new Uint8Array(req.toSchema(true).toBER())).certIds[0]!, id);
    }
  });

  it('reads `openssl ocsp -reqout` requests, with and without a nonce, SHA-1 and SHA-256', { skip: peerSkip('openssl') }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stapler-reqout-'));
    await writeFile(join(dir, 'issuer.pem'), pki.intermediate.pem);
    await writeFile(join(dir, 'leaf.pem'), pki.leaf.pem);
    for (const [digest, id] of [
      ['-sha1', sha1],
      ['-sha256', sha256],
    ] as const) {
      for (const nonce of ['-nonce', '-no_nonce']) {
        const out = await openssl(['ocsp', '-issuer', 'issuer.pem', digest, '-cert', 'leaf.pem', nonce, '-reqout', 'req.der'], dir);
        assert.equal(out.code, 0, out.stderr);
        const parsed = parseRequest(await readFile(join(dir, 'req.der')));
        sameId(parsed.certIds[0]!, id);
        assert.equal(parsed.hasNonce, nonce === '-nonce', `${digest} ${nonce}`);
      }
    }
  });

  it('accepts version v1 written out, a requestorName, per-request extensions and an optionalSignature', () => {
    const der = request(
      [
        tlv(ctx(0), Buffer.from([TAG.INTEGER, 1, 0])),
        tlv(ctx(1), tlv(0x82, Buffer.from('client.example'))),
        sequence(sequence(encodeCertId(sha1), tlv(ctx(0), sequence(sequence(oid(OID.ocspNonce), octetString(Buffer.from([4, 1, 9]))))))),
      ],
      [tlv(ctx(0), sequence(sequence(oid(OID.sha256WithRSA), derNull()), tlv(TAG.BIT_STRING, Buffer.from([0, 1, 2]))))],
    );
    const parsed = parseRequest(der);
    sameId(parsed.certIds[0]!, sha1);
    assert.equal(parsed.signed, true);
    assert.equal(parsed.hasNonce, false, 'a nonce counts in requestExtensions only');
  });

  it('refuses malformed requests with a DerError naming the field', () => {
    const good = buildRequest(sha1);
    refused(Buffer.alloc(0), /^OCSPRequest$/);
    refused(Buffer.concat([good, Buffer.from([0])]), /^OCSPRequest$/);
    refused(good.subarray(0, good.length - 1), /OCSPRequest|tbsRequest|reqCert|serial/);
    refused(Buffer.alloc(REQUEST_CAPS.maxBytes + 1, 0x30), /^OCSPRequest$/);
    refused(request([tlv(ctx(0), Buffer.from([TAG.INTEGER, 1, 1])), list(sha1)]), /tbsRequest\.version/);
    refused(request([sequence()]), /tbsRequest\.requestList/);
    refused(request([list(...Array.from({ length: REQUEST_CAPS.requests + 1 }, () => sha1))]), /tbsRequest\.requestList/);
    // Hash algorithm: unknown OID, and a hash of the wrong length.
    const certId = (alg: string, name: Buffer, key: Buffer): Buffer =>
      sequence(sequence(oid(alg), derNull()), octetString(name), octetString(key), integerFromContent(Buffer.from([1])));
    refused(request([sequence(sequence(certId('1.2.3.4', Buffer.alloc(20), Buffer.alloc(20))))]), /CertID\.hashAlgorithm/);
    refused(request([sequence(sequence(certId(OID.sha256, Buffer.alloc(20), Buffer.alloc(32))))]), /CertID\.issuerNameHash/);
    refused(request([sequence(sequence(certId(OID.sha1, Buffer.alloc(20), Buffer.alloc(19))))]), /CertID\.issuerKeyHash/);
    refused(
      request([
        sequence(
          sequence(
            sequence(sequence(oid(OID.sha1), derNull()), octetString(Buffer.alloc(20)), octetString(Buffer.alloc(20)), integerFromContent(Buffer.alloc(22, 1))),
          ),
        ),
      ]),
      /CertID\.serialNumber/,
    );
    refused(request([list(sha1), tlv(ctx(2), sequence(sequence(oid(OID.ocspNonce))))]), /requestExtensions\.extnValue/);
    refused(request([list(sha1)], [tlv(ctx(1), Buffer.alloc(0))]), /^OCSPRequest$/);
  });

  it('with maxCertIds 1 (a responder), refuses a list at its second CertID without reading the rest', () => {
    const most = buildRequest(Array.from({ length: REQUEST_CAPS.requests }, () => sha256));
    const budget = new DerBudget(1_000_000);
    assert.throws(
      () => parseRequest(most, budget, 1),
      (err: unknown) => err instanceof DerError && /more than one CertID/.test(err.message),
    );
    const two = new DerBudget(1_000_000);
    assert.throws(() => parseRequest(buildRequest([sha256, sha256]), two, 1), DerError);
    assert.ok(budget.steps <= two.steps, `${budget.steps} steps for ${REQUEST_CAPS.requests} CertIDs, ${two.steps} for 2`);
    sameId(parseRequest(buildRequest(sha256), undefined, 1).certIds[0]!, sha256);
  });

  it("compares extensions' and hash algorithms' OIDs as bytes, never making their text (64 arcs each, 32 extensions)", () => {
    const long = `1.2.${Array.from({ length: 62 }, (_, k) => 1 + k).join('.')}`;
    const ext = sequence(oid(long), octetString(Buffer.alloc(0)));
    const many = sequence(...Array.from({ length: REQUEST_CAPS.extensions }, () => ext));
    const nonce = sequence(
      sequence(oid(OID.ocspNonce), octetString(octetString(Buffer.alloc(16, 3)))),
      ...Array.from({ length: REQUEST_CAPS.extensions - 1 }, () => ext),
    );
    const der = request([sequence(sequence(encodeCertId(sha1), tlv(ctx(0), many))), tlv(ctx(2), nonce)]);
    const proto = DerReader.prototype as { oid: (this: DerReader, tlv: Tlv, field: string) => string };
    const realOid = proto.oid;
    let texts = 0;
    proto.oid = function (tlv, field) {
      texts++;
      return realOid.call(this, tlv, field);
    };
    try {
      const parsed = parseRequest(der);
      sameId(parsed.certIds[0]!, sha1);
      assert.equal(parsed.hasNonce, true);
    } finally {
      proto.oid = realOid;
    }
    assert.equal(texts, 0, `${texts} OIDs made into text`);
  });
});
