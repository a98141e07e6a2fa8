// Reading OCSP requests, field by field (found by mutation testing, issue 20): each malformed
// element is refused with a DerError naming that element and saying what is wrong, each bound
// holds at its edge, and a request without a nonce says so.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ctx, TAG } from '../../src/ocsp/der.ts';
import { derNull, octetString, oid, sequence, tlv } from '../../src/ocsp/der-writer.ts';
import { OID } from '../../src/ocsp/oids.ts';
import { parseRequest, REQUEST_CAPS } from '../../src/ocsp/request-parse.ts';
import { assertRefused } from '../support/der-refusal.ts';

const int = (...bytes: number[]): Buffer => tlv(TAG.INTEGER, Buffer.from(bytes));
const SHA1 = sequence(oid(OID.sha1), derNull());

interface IdParts {
  readonly alg?: Buffer;
  readonly name?: Buffer;
  readonly key?: Buffer;
  readonly serial?: Buffer;
}
const certId = (p: IdParts = {}): Buffer =>
  sequence(p.alg ?? SHA1, p.name ?? octetString(Buffer.alloc(20, 1)), p.key ?? octetString(Buffer.alloc(20, 2)), p.serial ?? int(1));
/** One Request: a CertID and what follows it (singleRequestExtensions). */
const one = (id: Buffer = certId(), ...rest: Buffer[]): Buffer => sequence(id, ...rest);
/** An OCSPRequest from tbsRequest's items (requestList by default) and what follows tbsRequest. */
const request = (tbs: Buffer[] = [sequence(one())], after: Buffer[] = []): Buffer => sequence(sequence(...tbs), ...after);
const withExtensions = (...exts: Buffer[]): Buffer => request([sequence(one()), tlv(ctx(2), sequence(...exts))]);
const ext = (id: string = '1.2.3'): Buffer => sequence(oid(id), octetString(Buffer.from([1])));

function refused(der: Buffer, field: string, detail: string | RegExp, maxCertIds?: number): void {
  assertRefused(() => parseRequest(der, undefined, maxCertIds), field, detail);
}

/** A valid request of exactly `size` bytes (padded in a request extension's value). */
function requestOfSize(size: number): Buffer {
  let pad = size;
  for (;;) {
    const der = request([sequence(one()), tlv(ctx(2), sequence(sequence(oid('1.2.3'), octetString(Buffer.alloc(pad)))))]);
    if (der.length === size) return der;
    pad += size - der.length;
  }
}

describe('parseRequest, field by field', () => {
  it('takes a request of exactly the size limit, and refuses one byte more before reading it', () => {
    assert.equal(parseRequest(requestOfSize(REQUEST_CAPS.maxBytes)).certIds.length, 1);
    refused(requestOfSize(REQUEST_CAPS.maxBytes + 1), 'OCSPRequest', `larger than ${REQUEST_CAPS.maxBytes} bytes`);
  });

  it('names the outer elements', () => {
    refused(tlv(TAG.SET, sequence(sequence(one()))), 'OCSPRequest', 'expected a SEQUENCE');
    refused(sequence(tlv(TAG.SET, sequence(one()))), 'tbsRequest', 'expected tag 0x30, found 0x31');
    refused(request(undefined, [Buffer.from([ctx(0), 5])]), 'optionalSignature', 'length 5 runs past the end of its container');
  });

  it('names the version, and says which version it does not support', () => {
    refused(request([tlv(ctx(0), int(0), int(0)), sequence(one())]), 'tbsRequest.version', '3 unexpected trailing bytes');
    refused(request([tlv(ctx(0), octetString(Buffer.from([0]))), sequence(one())]), 'tbsRequest.version', 'expected tag 0x02, found 0x04');
    refused(request([tlv(ctx(0), int(0x80)), sequence(one())]), 'tbsRequest.version', 'negative value');
    refused(request([tlv(ctx(0), int(1)), sequence(one())]), 'tbsRequest.version', 'unsupported version 2');
  });

  it('names the requestorName, the list and each Request', () => {
    refused(
      request([tlv(ctx(1), tlv(0x82, Buffer.from('a')), tlv(0x82, Buffer.from('b'))), sequence(one())]),
      'tbsRequest.requestorName',
      '3 unexpected trailing bytes',
    );
    refused(request([tlv(ctx(1)), sequence(one())]), 'tbsRequest.requestorName', 'missing element');
    refused(request([tlv(TAG.SET, one())]), 'tbsRequest.requestList', 'expected tag 0x30, found 0x31');
    refused(request([sequence()]), 'tbsRequest.requestList', 'empty: names no certificate');
    refused(request([sequence(tlv(TAG.SET, certId()))]), 'Request', 'expected tag 0x30, found 0x31');
    refused(request([sequence(one(tlv(TAG.SET)))]), 'Request.reqCert', 'expected tag 0x30, found 0x31');
    refused(request([sequence(one(certId(), tlv(ctx(0), sequence(), sequence())))]), 'Request.singleRequestExtensions', '2 unexpected trailing bytes');
    refused(request([sequence(one(certId(), tlv(ctx(0), tlv(TAG.SET))))]), 'Request.singleRequestExtensions', 'expected tag 0x30, found 0x31');
    refused(request([sequence(one()), tlv(ctx(2), sequence(), sequence())]), 'tbsRequest.requestExtensions', '2 unexpected trailing bytes');
  });

  it('counts the requests it refuses: one for a responder, the cap otherwise', () => {
    const many = (n: number): Buffer => request([sequence(...Array.from({ length: n }, () => one()))]);
    assert.equal(parseRequest(many(REQUEST_CAPS.requests)).certIds.length, REQUEST_CAPS.requests);
    refused(many(REQUEST_CAPS.requests + 1), 'tbsRequest.requestList', `more than ${REQUEST_CAPS.requests} requests`);
    refused(many(2), 'tbsRequest.requestList', 'more than one CertID (RFC 5019 allows one)', 1);
    refused(many(3), 'tbsRequest.requestList', 'more than 2 requests', 2);
  });

  it("names each part of a CertID's hash algorithm, which may come without parameters", () => {
    assert.equal(parseRequest(request([sequence(one(certId({ alg: sequence(oid(OID.sha1)) })))])).certIds[0]!.hash, 'sha1');
    const refusedId = (p: IdParts, field: string, detail: string): void => refused(request([sequence(one(certId(p)))]), field, detail);
    refusedId({ alg: tlv(TAG.SET) }, 'CertID.hashAlgorithm', 'expected tag 0x30, found 0x31');
    refusedId({ alg: sequence(octetString(Buffer.from([1]))) }, 'CertID.hashAlgorithm', 'expected tag 0x06, found 0x04');
    refusedId({ alg: sequence(tlv(TAG.OID)) }, 'CertID.hashAlgorithm', 'empty object identifier');
    refusedId({ alg: sequence(oid('1.2.3.4'), derNull()) }, 'CertID.hashAlgorithm', 'unsupported hash 1.2.3.4');
    refusedId({ alg: sequence(oid(OID.sha1), int(0)) }, 'CertID.hashAlgorithm.parameters', 'expected tag 0x05, found 0x02');
    refusedId({ alg: sequence(oid(OID.sha1), tlv(TAG.NULL, Buffer.from([0]))) }, 'CertID.hashAlgorithm.parameters', 'NULL must be empty');
    refusedId({ key: octetString(Buffer.alloc(19)) }, 'CertID.issuerKeyHash', '19 bytes, not a sha1 hash (20)');
  });

  it('names the serial number, and takes one of 21 bytes but not 22', () => {
    const refusedId = (p: IdParts, detail: string): void => refused(request([sequence(one(certId(p)))]), 'CertID.serialNumber', detail);
    refusedId({ serial: octetString(Buffer.from([1])) }, 'expected tag 0x02, found 0x04');
    refusedId({ serial: tlv(TAG.INTEGER) }, 'empty integer');
    const serial21 = Buffer.concat([Buffer.from([0x00]), Buffer.alloc(20, 0x81)]);
    assert.deepEqual(Buffer.from(parseRequest(request([sequence(one(certId({ serial: tlv(TAG.INTEGER, serial21) })))])).certIds[0]!.serial), serial21);
    refusedId({ serial: tlv(TAG.INTEGER, Buffer.alloc(22, 0x11)) }, 'longer than 21 bytes');
  });

  it('says a request without a nonce has none, even with other extensions', () => {
    assert.equal(parseRequest(withExtensions(ext())).hasNonce, false);
    assert.equal(parseRequest(withExtensions(ext(), ext(OID.ocspNonce))).hasNonce, true);
  });

  it('takes as many extensions as the cap, not one more', () => {
    const exts = (n: number): Buffer[] => Array.from({ length: n }, (_, i) => ext(`1.2.${i}`));
    assert.equal(parseRequest(withExtensions(...exts(REQUEST_CAPS.extensions))).certIds.length, 1);
    refused(withExtensions(...exts(REQUEST_CAPS.extensions + 1)), 'tbsRequest.requestExtensions', `more than ${REQUEST_CAPS.extensions} extensions`);
  });

  it('names the parts of an extension', () => {
    const field = 'tbsRequest.requestExtensions';
    refused(withExtensions(tlv(TAG.SET)), `${field}.Extension`, 'expected tag 0x30, found 0x31');
    refused(withExtensions(sequence(octetString(Buffer.from([1])))), `${field}.extnID`, 'expected tag 0x06, found 0x04');
    refused(withExtensions(sequence(tlv(TAG.OID), octetString(Buffer.from([1])))), `${field}.extnID`, 'empty object identifier');
    refused(withExtensions(sequence(oid('1.2.3'), Buffer.from([TAG.BOOLEAN, 5]))), `${field}.critical`, 'length 5 runs past the end of its container');
    refused(
      withExtensions(sequence(oid('1.2.3'), tlv(TAG.BOOLEAN, Buffer.from([1])), octetString(Buffer.from([1])))),
      `${field}.critical`,
      'boolean must be 0x00 or 0xFF',
    );
    refused(withExtensions(sequence(oid('1.2.3'))), `${field}.extnValue`, 'missing element');
  });
});
