// Reading OCSP responses built byte by byte (found by mutation testing, issue 20): each field read
// as sent, and each malformed one refused with a DerError that names it.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ctx, ctxPrim, DerBudget, DerError, TAG } from '../../src/ocsp/der.ts';
import { derNull, octetString, oid, sequence, tlv } from '../../src/ocsp/der-writer.ts';
import { OID } from '../../src/ocsp/oids.ts';
import { parseResponse, RESPONSE_CAPS, type OcspResponse } from '../../src/ocsp/response.ts';

const time = (s: string): Buffer => tlv(TAG.GENERALIZED_TIME, Buffer.from(s));
const int = (...bytes: number[]): Buffer => tlv(TAG.INTEGER, Buffer.from(bytes));
const NOW = time('20260101000000Z');
const LATER = time('20260108000000Z');
const NAME = sequence(tlv(TAG.SET, sequence(oid('2.5.4.3'), tlv(TAG.PRINTABLE_STRING, Buffer.from('R')))));

const certId = (hash = OID.sha1, serial = int(0x01, 0x23)): Buffer =>
  sequence(sequence(oid(hash), derNull()), octetString(Buffer.alloc(20, 1)), octetString(Buffer.alloc(20, 2)), serial);
const GOOD = tlv(ctxPrim(0));
const UNKNOWN = tlv(ctxPrim(2));
const ext = (id: string, value: Buffer, critical?: boolean): Buffer =>
  sequence(oid(id), ...(critical === undefined ? [] : [tlv(TAG.BOOLEAN, Buffer.from([critical ? 0xff : 0]))]), octetString(value));
const single = (status: Buffer = GOOD, ...rest: Buffer[]): Buffer => sequence(certId(), status, NOW, tlv(ctx(0), LATER), ...rest);

interface Tbs {
  readonly version?: Buffer[];
  readonly responderId?: Buffer;
  readonly responses?: Buffer[];
  readonly extensions?: Buffer[];
}
const tbs = (t: Tbs = {}): Buffer =>
  sequence(
    ...(t.version ?? []),
    t.responderId ?? tlv(ctx(1), NAME),
    NOW,
    sequence(...(t.responses ?? [single()])),
    ...(t.extensions ? [tlv(ctx(1), sequence(...t.extensions))] : []),
  );
const SIG_ALG = sequence(oid(OID.ecdsaWithSha256));
const basic = (tbsDer: Buffer = tbs(), certs?: Buffer[]): Buffer =>
  sequence(tbsDer, SIG_ALG, tlv(TAG.BIT_STRING, Buffer.from([0, 9, 8, 7])), ...(certs ? [tlv(ctx(0), sequence(...certs))] : []));
const response = (basicDer: Buffer = basic(), type: string = OID.ocspBasic): Buffer =>
  sequence(tlv(TAG.ENUMERATED, Buffer.from([0])), tlv(ctx(0), sequence(oid(type), octetString(basicDer))));

function refused(der: Buffer, field: string, detail: RegExp): void {
  assert.throws(
    () => parseResponse(der),
    (err: unknown) => {
      assert.ok(err instanceof DerError, String(err));
      assert.equal(err.field, field);
      assert.match(err.detail, detail);
      return true;
    },
  );
}

const basicOf = (r: OcspResponse) => {
  assert.ok(r.basic);
  return r.basic;
};

describe('parseResponse on hand-built responses', () => {
  it('reads every field of a minimal response as sent', () => {
    const r = parseResponse(response());
    assert.equal(r.status, 'successful');
    assert.equal(r.responseType, OID.ocspBasic);
    const b = basicOf(r);
    assert.deepEqual(Buffer.from(b.responderId.byName!), NAME);
    assert.equal(b.producedAt, Date.UTC(2026, 0, 1));
    assert.deepEqual(Buffer.from(b.signature), Buffer.from([9, 8, 7]));
    assert.deepEqual(Buffer.from(b.tbsResponseData), tbs());
    assert.deepEqual(b.certs, []);
    assert.deepEqual(b.extensions, []);
    assert.equal(b.responses.length, 1);
    const s = b.responses[0]!;
    assert.equal(s.status, 'good');
    assert.equal(s.thisUpdate, Date.UTC(2026, 0, 1));
    assert.equal(s.nextUpdate, Date.UTC(2026, 0, 8));
    assert.equal(s.revocationTime, null);
    assert.equal(s.revocationReason, null);
    assert.equal(s.certId.hash, 'sha1');
    assert.equal(s.certId.hashOid, OID.sha1);
    assert.deepEqual(Buffer.from(s.certId.serial), Buffer.from([0x01, 0x23]));
    assert.deepEqual(Buffer.from(s.certId.issuerNameHash), Buffer.alloc(20, 1));
    assert.deepEqual(Buffer.from(s.certId.issuerKeyHash), Buffer.alloc(20, 2));
  });

  it('reads a version given as v1, a responder by key, unknown and revoked statuses, extensions and certificates', () => {
    const revoked = tlv(ctx(1), LATER, tlv(ctx(0), tlv(TAG.ENUMERATED, Buffer.from([4]))));
    const revokedNoReason = tlv(ctx(1), NOW);
    const der = response(
      basic(
        tbs({
          version: [tlv(ctx(0), int(0))],
          responderId: tlv(ctx(2), octetString(Buffer.alloc(20, 7))),
          responses: [single(UNKNOWN), single(revoked, tlv(ctx(1), sequence(ext('1.2.3', Buffer.from([5]))))), sequence(certId(), revokedNoReason, NOW)],
          extensions: [ext(OID.ocspNonce, Buffer.from([1, 2]), true), ext('1.2.4', Buffer.from([3]), false)],
        }),
        [sequence(int(1)), sequence(int(2))],
      ),
    );
    const b = basicOf(parseResponse(der));
    assert.deepEqual(Buffer.from(b.responderId.byKey!), Buffer.alloc(20, 7));
    assert.equal(b.responderId.byName, undefined);
    assert.deepEqual(
      b.responses.map((s) => [s.status, s.revocationTime, s.revocationReason, s.nextUpdate]),
      [
        ['unknown', null, null, Date.UTC(2026, 0, 8)],
        ['revoked', Date.UTC(2026, 0, 8), 4, Date.UTC(2026, 0, 8)],
        ['revoked', Date.UTC(2026, 0, 1), null, null],
      ],
    );
    assert.deepEqual(
      b.responses[1]!.extensions.map((e) => [e.oid, e.critical, Buffer.from(e.value)]),
      [['1.2.3', false, Buffer.from([5])]],
    );
    assert.deepEqual(
      b.extensions.map((e) => [e.oid, e.critical, Buffer.from(e.value)]),
      [
        [OID.ocspNonce, true, Buffer.from([1, 2])],
        ['1.2.4', false, Buffer.from([3])],
      ],
    );
    assert.deepEqual(
      b.certs.map((c) => Buffer.from(c)),
      [sequence(int(1)), sequence(int(2))],
    );
  });

  it('returns no basic response for another response type, and none for a status other than successful', () => {
    const other = parseResponse(response(basic(), '1.2.3.4'));
    assert.deepEqual([other.status, other.responseType, other.basic], ['successful', '1.2.3.4', null]);
    const later = parseResponse(sequence(tlv(TAG.ENUMERATED, Buffer.from([3]))));
    assert.deepEqual([later.status, later.responseType, later.basic], ['tryLater', null, null]);
  });

  it('refuses each malformed field, naming it', () => {
    refused(tlv(TAG.SET), 'OCSPResponse', /^expected a SEQUENCE$/);
    refused(sequence(tlv(TAG.ENUMERATED, Buffer.from([4]))), 'responseStatus', /^unknown response status 4$/);
    refused(sequence(tlv(TAG.ENUMERATED, Buffer.from([0]))), 'responseBytes', /^a successful response must carry responseBytes$/);
    refused(response(tlv(TAG.SET)), 'BasicOCSPResponse', /^expected a SEQUENCE$/);
    refused(response(basic(tbs({ version: [tlv(ctx(0), int(1))] }))), 'version', /^unknown response version 2$/);
    refused(response(basic(tbs({ responderId: tlv(ctx(3), NAME) }))), 'responderID', /^expected byName \[1\] or byKey \[2\]$/);
    refused(
      response(basic(tbs({ responses: [sequence(certId(), tlv(ctxPrim(3)), NOW)] }))),
      'responses[0].certStatus',
      /^expected good \[0\], revoked \[1\] or unknown \[2\]$/,
    );
    refused(response(basic(tbs({ responses: [single(), sequence(certId(), GOOD)] }))), 'responses[1].thisUpdate', /./);
    const dup = [ext('1.2.3', Buffer.from([1])), ext('1.2.3', Buffer.from([2]))];
    refused(response(basic(tbs({ extensions: dup }))), 'responseExtensions[1].extnID', /^duplicate extension 1\.2\.3$/);
    refused(
      response(basic(tbs({ responses: [single(GOOD, tlv(ctx(1), sequence(...dup)))] }))),
      'responses[0].singleExtensions[1].extnID',
      /^duplicate extension 1\.2\.3$/,
    );
    refused(response(basic(tbs({ extensions: [sequence(oid('1.2.3'))] }))), 'responseExtensions[0].extnValue', /./);
  });

  it('caps SingleResponses, extensions (response and single together) and certificates', () => {
    const singles = Array.from({ length: RESPONSE_CAPS.singleResponses }, () => single());
    assert.equal(basicOf(parseResponse(response(basic(tbs({ responses: singles }))))).responses.length, RESPONSE_CAPS.singleResponses);
    refused(response(basic(tbs({ responses: [...singles, single()] }))), 'responses', /^more than 256 SingleResponses$/);

    const exts = (n: number, prefix: string): Buffer[] => Array.from({ length: n }, (_, i) => ext(`${prefix}.${i}`, Buffer.from([i])));
    const half = RESPONSE_CAPS.extensions / 2;
    const withExts = (single: number, response: number): Buffer =>
      basic(
        tbs({
          responses: [single > 0 ? sequence(certId(), GOOD, NOW, tlv(ctx(1), sequence(...exts(single, '1.2.5')))) : single()],
          extensions: exts(response, '1.2.6'),
        }),
      );
    assert.equal(basicOf(parseResponse(response(withExts(half, half)))).extensions.length, half);
    refused(response(withExts(half, half + 1)), 'responseExtensions', /^more than 32 extensions in the response$/);
    refused(response(withExts(RESPONSE_CAPS.extensions + 1, 0)), 'responses[0].singleExtensions', /^more than 32 extensions in the response$/);

    const certs = (n: number): Buffer[] => Array.from({ length: n }, (_, i) => sequence(int(i)));
    assert.equal(basicOf(parseResponse(response(basic(tbs(), certs(RESPONSE_CAPS.certs))))).certs.length, RESPONSE_CAPS.certs);
    refused(response(basic(tbs(), certs(RESPONSE_CAPS.certs + 1))), 'certs', /^more than 16 embedded certificates$/);
  });

  it('charges the duplicate check of extension OIDs to the work budget, one step per byte of the OID', () => {
    const spent = (d: Buffer): number => {
      const budget = DerBudget.forInput(d.length);
      parseResponse(d, budget);
      return budget.steps;
    };
    const short = '1.2.3';
    const long = `1.2.${Array.from({ length: 30 }, () => '99').join('.')}`;
    const extra = oid(long).length - oid(short).length;
    // The same two OIDs as the response type (not checked for duplicates) cost only their decoding.
    const asType = spent(response(basic(), long)) - spent(response(basic(), short));
    const asExtension =
      spent(response(basic(tbs({ extensions: [ext(long, Buffer.from([1]))] })))) - spent(response(basic(tbs({ extensions: [ext(short, Buffer.from([1]))] }))));
    assert.equal(asExtension - asType, extra);
  });
});
