// Reading OCSP responses built byte by byte (found by mutation testing, issue 20): each field read
// as sent, and each malformed one refused with a DerError that names it.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ctx, ctxPrim, DerBudget, DerError, TAG } from '../../src/ocsp/der.ts';
import { derNull, octetString, oid, sequence, tlv } from '../../src/ocsp/der-writer.ts';
import { OID } from '../../src/ocsp/oids.ts';
import { parseResponse, RESPONSE_CAPS, type OcspResponse } from '../../src/ocsp/response.ts';
import { assertRefused } from '../support/der-refusal.ts';

const time = (s: string): Buffer => tlv(TAG.GENERALIZED_TIME, Buffer.from(s));
const int = (...bytes: number[]): Buffer => tlv(TAG.INTEGER, Buffer.from(bytes));
const NOW = time('20260101000000Z');
const LATER = time('20260108000000Z');
const NAME = sequence(tlv(TAG.SET, sequence(oid('2.5.4.3'), tlv(TAG.PRINTABLE_STRING, Buffer.from('R')))));

const SHA1_ALG = sequence(oid(OID.sha1), derNull());
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
const SIGNATURE = tlv(TAG.BIT_STRING, Buffer.from([0, 9, 8, 7]));
const basic = (tbsDer: Buffer = tbs(), certs?: Buffer[]): Buffer => sequence(tbsDer, SIG_ALG, SIGNATURE, ...(certs ? [tlv(ctx(0), sequence(...certs))] : []));
const SUCCESSFUL = tlv(TAG.ENUMERATED, Buffer.from([0]));
const response = (basicDer: Buffer = basic(), type: string = OID.ocspBasic): Buffer =>
  sequence(SUCCESSFUL, tlv(ctx(0), sequence(oid(type), octetString(basicDer))));
/** A response around responseBytes' [0] contents. */
const withBytes = (...contents: Buffer[]): Buffer => sequence(SUCCESSFUL, tlv(ctx(0), ...contents));
/** A response whose only SingleResponse is this. */
const withSingle = (singleDer: Buffer): Buffer => response(basic(tbs({ responses: [singleDer] })));
const BAD_TIME = time('2026');

function refused(der: Buffer, field: string, detail: string | RegExp): void {
  assertRefused(() => parseResponse(der), field, detail);
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
    const withExts = (inSingle: number, inResponse: number): Buffer =>
      basic(
        tbs({
          responses: [inSingle > 0 ? sequence(certId(), GOOD, NOW, tlv(ctx(1), sequence(...exts(inSingle, '1.2.5')))) : single()],
          extensions: exts(inResponse, '1.2.6'),
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

describe('parseResponse names the field of each malformed element', () => {
  const cases: [string, Buffer, string, string | RegExp][] = [
    ['empty input', Buffer.alloc(0), 'OCSPResponse', 'empty input'],
    ['a status that is not ENUMERATED', sequence(int(0)), 'responseStatus', 'expected tag 0x0a, found 0x02'],
    ['an empty status', sequence(tlv(TAG.ENUMERATED)), 'responseStatus', 'empty integer'],
    ['responseBytes running past the end', sequence(SUCCESSFUL, Buffer.from([ctx(0), 5])), 'responseBytes', 'length 5 runs past the end of its container'],
    ['trailing bytes after responseBytes', sequence(tlv(TAG.ENUMERATED, Buffer.from([3])), int(0)), 'OCSPResponse', '3 unexpected trailing bytes'],
    ['responseBytes not a SEQUENCE', withBytes(tlv(TAG.SET)), 'responseBytes', 'expected tag 0x30, found 0x31'],
    ['trailing bytes in responseBytes', withBytes(sequence(oid(OID.ocspBasic), octetString(basic())), int(0)), 'responseBytes', '3 unexpected trailing bytes'],
    ['a responseType that is not an OID', withBytes(sequence(octetString(Buffer.from([1])))), 'responseBytes.responseType', 'expected tag 0x06, found 0x04'],
    ['an empty responseType', withBytes(sequence(tlv(TAG.OID), octetString(basic()))), 'responseBytes.responseType', 'empty object identifier'],
    ['a response that is not an OCTET STRING', withBytes(sequence(oid(OID.ocspBasic), int(0))), 'responseBytes.response', 'expected tag 0x04, found 0x02'],
    ['an empty BasicOCSPResponse', response(Buffer.alloc(0)), 'BasicOCSPResponse', 'empty input'],
    ['tbsResponseData not a SEQUENCE', response(sequence(tlv(TAG.SET), SIG_ALG, SIGNATURE)), 'tbsResponseData', 'expected tag 0x30, found 0x31'],
    ['a signatureAlgorithm that is not a SEQUENCE', response(sequence(tbs(), tlv(TAG.SET), SIGNATURE)), 'signatureAlgorithm', 'expected tag 0x30, found 0x31'],
    ['a signature that is not a BIT STRING', response(sequence(tbs(), SIG_ALG, octetString(Buffer.from([0])))), 'signature', 'expected tag 0x03, found 0x04'],
    ['an empty signature', response(sequence(tbs(), SIG_ALG, tlv(TAG.BIT_STRING))), 'signature', 'empty bit string'],
    ['trailing bytes in certs', response(sequence(tbs(), SIG_ALG, SIGNATURE, tlv(ctx(0), sequence(), sequence()))), 'certs', '2 unexpected trailing bytes'],
    ['certs not a SEQUENCE', response(sequence(tbs(), SIG_ALG, SIGNATURE, tlv(ctx(0), tlv(TAG.SET)))), 'certs', 'expected tag 0x30, found 0x31'],
    ['a certificate that is not a SEQUENCE', response(basic(tbs(), [int(1)])), 'certs[0]', 'expected tag 0x30, found 0x02'],
    [
      'trailing bytes after certs',
      response(sequence(tbs(), SIG_ALG, SIGNATURE, tlv(ctx(0), sequence()), int(0))),
      'BasicOCSPResponse',
      '3 unexpected trailing bytes',
    ],
    ['trailing bytes in version', response(basic(tbs({ version: [tlv(ctx(0), int(0), int(0))] }))), 'version', '3 unexpected trailing bytes'],
    [
      'a version that is not an INTEGER',
      response(basic(tbs({ version: [tlv(ctx(0), octetString(Buffer.from([0])))] }))),
      'version',
      'expected tag 0x02, found 0x04',
    ],
    ['a negative version', response(basic(tbs({ version: [tlv(ctx(0), int(0x80))] }))), 'version', 'negative value'],
    ['trailing bytes in byName', response(basic(tbs({ responderId: tlv(ctx(1), NAME, NAME) }))), 'responderID.byName', /^\d+ unexpected trailing bytes$/],
    [
      'a byName that is not a Name',
      response(basic(tbs({ responderId: tlv(ctx(1), octetString(Buffer.from([1]))) }))),
      'responderID.byName',
      'expected tag 0x30, found 0x04',
    ],
    [
      'trailing bytes in byKey',
      response(basic(tbs({ responderId: tlv(ctx(2), octetString(Buffer.from([1])), int(0)) }))),
      'responderID.byKey',
      '3 unexpected trailing bytes',
    ],
    ['a byKey that is not an OCTET STRING', response(basic(tbs({ responderId: tlv(ctx(2), int(0)) }))), 'responderID.byKey', 'expected tag 0x04, found 0x02'],
    ['a responderID running past the end', response(basic(tbs({ responderId: Buffer.from([ctx(3), 0x7f]) }))), 'responderID', /runs past the end/],
    [
      'trailing bytes after responseExtensions',
      response(basic(sequence(tlv(ctx(1), NAME), NOW, sequence(single()), int(0)))),
      'tbsResponseData',
      '3 unexpected trailing bytes',
    ],
    [
      'a UTCTime producedAt',
      response(basic(sequence(tlv(ctx(1), NAME), tlv(TAG.UTC_TIME, Buffer.from('260101000000Z')), sequence(single())))),
      'producedAt',
      'expected tag 0x18, found 0x17',
    ],
    ['a malformed producedAt', response(basic(sequence(tlv(ctx(1), NAME), BAD_TIME, sequence(single())))), 'producedAt', /./],
    ['responses not a SEQUENCE', response(basic(sequence(tlv(ctx(1), NAME), NOW, tlv(TAG.SET, single())))), 'responses', 'expected tag 0x30, found 0x31'],
    [
      'trailing bytes in responseExtensions',
      response(basic(sequence(tlv(ctx(1), NAME), NOW, sequence(single()), tlv(ctx(1), sequence(), sequence())))),
      'responseExtensions',
      '2 unexpected trailing bytes',
    ],
    ['a SingleResponse that is not a SEQUENCE', withSingle(int(1)), 'responses[0]', 'expected tag 0x30, found 0x02'],
    ['trailing bytes in a SingleResponse', withSingle(single(GOOD, int(0))), 'responses[0]', '3 unexpected trailing bytes'],
    ['a certID that is not a SEQUENCE', withSingle(sequence(tlv(TAG.SET), GOOD, NOW)), 'responses[0].certID', 'expected tag 0x30, found 0x31'],
    [
      'a hashAlgorithm that is not a SEQUENCE',
      withSingle(sequence(sequence(tlv(TAG.SET)), GOOD, NOW)),
      'responses[0].certID.hashAlgorithm',
      'expected tag 0x30, found 0x31',
    ],
    [
      'an issuerNameHash that is not an OCTET STRING',
      withSingle(sequence(sequence(SHA1_ALG, int(0)), GOOD, NOW)),
      'responses[0].certID.issuerNameHash',
      'expected tag 0x04, found 0x02',
    ],
    [
      'an issuerKeyHash that is not an OCTET STRING',
      withSingle(sequence(sequence(SHA1_ALG, octetString(Buffer.alloc(20)), int(0)), GOOD, NOW)),
      'responses[0].certID.issuerKeyHash',
      'expected tag 0x04, found 0x02',
    ],
    [
      'a serialNumber that is not an INTEGER',
      withSingle(sequence(certId(OID.sha1, octetString(Buffer.from([1]))), GOOD, NOW)),
      'responses[0].certID.serialNumber',
      'expected tag 0x02, found 0x04',
    ],
    ['an empty serialNumber', withSingle(sequence(certId(OID.sha1, tlv(TAG.INTEGER)), GOOD, NOW)), 'responses[0].certID.serialNumber', 'empty integer'],
    ['no certStatus', withSingle(sequence(certId())), 'responses[0].certStatus', 'missing element'],
    ['a good status that is not empty', withSingle(single(tlv(ctxPrim(0), Buffer.from([0])))), 'responses[0].certStatus.good', 'NULL must be empty'],
    ['an unknown status that is not empty', withSingle(single(tlv(ctxPrim(2), Buffer.from([0])))), 'responses[0].certStatus.unknown', 'NULL must be empty'],
    ['trailing bytes in revokedInfo', withSingle(single(tlv(ctx(1), NOW, int(0)))), 'responses[0].certStatus.revoked', '3 unexpected trailing bytes'],
    ['a revocationTime that is not GeneralizedTime', withSingle(single(tlv(ctx(1), int(0)))), 'responses[0].revocationTime', 'expected tag 0x18, found 0x02'],
    ['a malformed revocationTime', withSingle(single(tlv(ctx(1), BAD_TIME))), 'responses[0].revocationTime', /./],
    [
      'trailing bytes in revocationReason',
      withSingle(single(tlv(ctx(1), NOW, tlv(ctx(0), tlv(TAG.ENUMERATED, Buffer.from([1])), int(0))))),
      'responses[0].revocationReason',
      '3 unexpected trailing bytes',
    ],
    [
      'a revocationReason that is not ENUMERATED',
      withSingle(single(tlv(ctx(1), NOW, tlv(ctx(0), int(1))))),
      'responses[0].revocationReason',
      'expected tag 0x0a, found 0x02',
    ],
    ['an empty revocationReason', withSingle(single(tlv(ctx(1), NOW, tlv(ctx(0), tlv(TAG.ENUMERATED))))), 'responses[0].revocationReason', 'empty integer'],
    ['a malformed thisUpdate', withSingle(sequence(certId(), GOOD, BAD_TIME)), 'responses[0].thisUpdate', /./],
    [
      'trailing bytes in nextUpdate',
      withSingle(sequence(certId(), GOOD, NOW, tlv(ctx(0), LATER, LATER))),
      'responses[0].nextUpdate',
      /^\d+ unexpected trailing bytes$/,
    ],
    [
      'a nextUpdate that is not GeneralizedTime',
      withSingle(sequence(certId(), GOOD, NOW, tlv(ctx(0), int(0)))),
      'responses[0].nextUpdate',
      'expected tag 0x18, found 0x02',
    ],
    ['a malformed nextUpdate', withSingle(sequence(certId(), GOOD, NOW, tlv(ctx(0), BAD_TIME))), 'responses[0].nextUpdate', /./],
    [
      'trailing bytes in singleExtensions',
      withSingle(sequence(certId(), GOOD, NOW, tlv(ctx(1), sequence(), sequence()))),
      'responses[0].singleExtensions',
      '2 unexpected trailing bytes',
    ],
    ['an extension that is not a SEQUENCE', response(basic(tbs({ extensions: [int(1)] }))), 'responseExtensions[0]', 'expected tag 0x30, found 0x02'],
    [
      'an extnID that is not an OID',
      response(basic(tbs({ extensions: [sequence(int(1), octetString(Buffer.from([1])))] }))),
      'responseExtensions[0].extnID',
      'expected tag 0x06, found 0x02',
    ],
    [
      'an empty extnID',
      response(basic(tbs({ extensions: [sequence(tlv(TAG.OID), octetString(Buffer.from([1])))] }))),
      'responseExtensions[0].extnID',
      'empty object identifier',
    ],
    [
      'critical running past the end',
      response(basic(tbs({ extensions: [sequence(oid('1.2.3'), Buffer.from([TAG.BOOLEAN, 5]))] }))),
      'responseExtensions[0].critical',
      'length 5 runs past the end of its container',
    ],
    [
      'critical neither true nor false',
      response(basic(tbs({ extensions: [sequence(oid('1.2.3'), tlv(TAG.BOOLEAN, Buffer.from([1])), octetString(Buffer.from([1])))] }))),
      'responseExtensions[0].critical',
      'boolean must be 0x00 or 0xFF',
    ],
  ];
  for (const [what, der, field, detail] of cases) {
    it(`${what}: ${field}`, () => refused(der, field, detail));
  }

  it("the duplicate check's work, when it is what exhausts the budget: extnID", () => {
    const der = response(basic(tbs({ extensions: [ext(`1.2.${'3.'.repeat(20)}4`, Buffer.from([1]))] })));
    const full = DerBudget.forInput(der.length);
    parseResponse(der, full);
    // The last two spends are the duplicate check (the OID's length) and extnValue's header (1).
    const tooSmall = (steps: number): DerError => {
      try {
        parseResponse(der, new DerBudget(steps));
      } catch (err) {
        assert.ok(err instanceof DerError, String(err));
        return err;
      }
      assert.fail(`parsed within ${steps} steps`);
    };
    assert.deepEqual([tooSmall(full.steps - 1).field, tooSmall(full.steps - 1).detail], ['responseExtensions[0].extnValue', 'parse work limit exceeded']);
    assert.deepEqual([tooSmall(full.steps - 2).field, tooSmall(full.steps - 2).detail], ['responseExtensions[0].extnID', 'parse work limit exceeded']);
  });
});
