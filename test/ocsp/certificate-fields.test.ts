// Certificates built byte by byte (found by mutation testing, issue 20): each malformed field of
// a certificate is named in the error, versions and unique identifiers are checked, and the
// facts read (key identifiers, validity, issuer) are exact at their edges.

import assert from 'node:assert/strict';
import { sign } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { Certificate } from '../../src/ocsp/certificate.ts';
import { ctx, ctxPrim, TAG } from '../../src/ocsp/der.ts';
import { octetString, oid, sequence, tlv } from '../../src/ocsp/der-writer.ts';
import { InputError } from '../../src/ocsp/errors.ts';
import { OID } from '../../src/ocsp/oids.ts';
import { makePki, type TestPki } from '../support/pki.ts';
import { craftCertificate, nameWith, STRING_TAG } from './craft.ts';

const int = (...bytes: number[]): Buffer => tlv(TAG.INTEGER, Buffer.from(bytes));
const utc = (s: string): Buffer => tlv(TAG.UTC_TIME, Buffer.from(s));
const ALG = sequence(oid(OID.ecdsaWithSha256));
const NAME = sequence(tlv(TAG.SET, sequence(oid('2.5.4.3'), tlv(TAG.PRINTABLE_STRING, Buffer.from('x')))));
const VALIDITY = sequence(utc('260101000000Z'), utc('360101000000Z'));
const SPKI = sequence(sequence(oid('1.2.840.10045.2.1'), oid('1.2.840.10045.3.1.7')), tlv(TAG.BIT_STRING, Buffer.from([0, 4, 1, 2])));
const V3 = tlv(ctx(0), int(2));
const SIG = tlv(TAG.BIT_STRING, Buffer.from([0, 1, 2]));

interface TbsParts {
  readonly version?: Buffer[];
  readonly serial?: Buffer;
  readonly alg?: Buffer;
  readonly issuer?: Buffer;
  readonly validity?: Buffer;
  readonly subject?: Buffer;
  readonly spki?: Buffer;
  readonly rest?: Buffer[];
}
const tbs = (p: TbsParts = {}): Buffer =>
  sequence(
    ...(p.version ?? [V3]),
    p.serial ?? int(1),
    p.alg ?? ALG,
    p.issuer ?? NAME,
    p.validity ?? VALIDITY,
    p.subject ?? NAME,
    p.spki ?? SPKI,
    ...(p.rest ?? []),
  );
const cert = (tbsDer: Buffer = tbs(), ...after: Buffer[]): Buffer => sequence(tbsDer, ...(after.length > 0 ? after : [ALG, SIG]));

function refused(der: Buffer, fieldAndDetail: string, label = 'crafted'): void {
  assert.throws(
    () => new Certificate(der, label),
    (err: unknown) => {
      assert.ok(err instanceof InputError, String(err));
      assert.match(err.message, new RegExp(`^${label}: not a valid certificate: ${fieldAndDetail.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(at byte \\d+\\)$`));
      return true;
    },
  );
}

describe('Certificate names the field of each malformed element', () => {
  it('calls the input "certificate" unless given a label', () => {
    assert.throws(() => new Certificate(tlv(TAG.SET)), { message: /^certificate: not a valid certificate: Certificate: expected a SEQUENCE/ });
  });
  const cases: [string, Buffer, string][] = [
    ['not a SEQUENCE', tlv(TAG.SET, tbs(), ALG, SIG), 'Certificate: expected a SEQUENCE'],
    ['an outer algorithm that is not a SEQUENCE', cert(tbs(), tlv(TAG.SET), SIG), 'signatureAlgorithm: expected tag 0x30, found 0x31'],
    ['a signatureValue that is not a BIT STRING', cert(tbs(), ALG, octetString(Buffer.from([0]))), 'signatureValue: expected tag 0x03, found 0x04'],
    ['an empty signatureValue', cert(tbs(), ALG, tlv(TAG.BIT_STRING)), 'signatureValue: empty bit string'],
    ['trailing bytes after signatureValue', cert(tbs(), ALG, SIG, int(0)), 'Certificate: 3 unexpected trailing bytes'],
    ['trailing bytes in version', cert(tbs({ version: [tlv(ctx(0), int(2), int(0))] })), 'version: 3 unexpected trailing bytes'],
    ['a version that is not an INTEGER', cert(tbs({ version: [tlv(ctx(0), octetString(Buffer.from([2])))] })), 'version: expected tag 0x02, found 0x04'],
    ['a negative version', cert(tbs({ version: [tlv(ctx(0), int(0x80))] })), 'version: negative value'],
    ['version 4', cert(tbs({ version: [tlv(ctx(0), int(3))] })), 'version: unknown certificate version 4'],
    ['a serialNumber that is not an INTEGER', cert(tbs({ serial: octetString(Buffer.from([1])) })), 'serialNumber: expected tag 0x02, found 0x04'],
    ['an empty serialNumber', cert(tbs({ serial: tlv(TAG.INTEGER) })), 'serialNumber: empty integer'],
    ['an inner algorithm that is not a SEQUENCE', cert(tbs({ alg: tlv(TAG.SET) })), 'tbsCertificate.signature: expected tag 0x30, found 0x31'],
    ['an issuer that is not a SEQUENCE', cert(tbs({ issuer: tlv(TAG.SET) })), 'issuer: expected tag 0x30, found 0x31'],
    ['an issuer that is not a Name', cert(tbs({ issuer: sequence(int(0)) })), 'issuer: expected tag 0x31, found 0x02'],
    ['a validity that is not a SEQUENCE', cert(tbs({ validity: tlv(TAG.SET) })), 'validity: expected tag 0x30, found 0x31'],
    ['no notBefore', cert(tbs({ validity: sequence() })), 'validity.notBefore: missing element'],
    ['a notBefore that is not a time', cert(tbs({ validity: sequence(int(0), utc('360101000000Z')) })), 'validity.notBefore: expected a time, found tag 0x02'],
    ['no notAfter', cert(tbs({ validity: sequence(utc('260101000000Z')) })), 'validity.notAfter: missing element'],
    ['a notAfter that is not a time', cert(tbs({ validity: sequence(utc('260101000000Z'), int(0)) })), 'validity.notAfter: expected a time, found tag 0x02'],
    ['a subject that is not a SEQUENCE', cert(tbs({ subject: tlv(TAG.SET) })), 'subject: expected tag 0x30, found 0x31'],
    ['a subjectPublicKeyInfo that is not a SEQUENCE', cert(tbs({ spki: tlv(TAG.SET) })), 'subjectPublicKeyInfo: expected tag 0x30, found 0x31'],
    [
      'a key algorithm that is not a SEQUENCE',
      cert(tbs({ spki: sequence(tlv(TAG.SET), SIG) })),
      'subjectPublicKeyInfo.algorithm: expected tag 0x30, found 0x31',
    ],
    [
      'a subjectPublicKey that is not a BIT STRING',
      cert(tbs({ spki: sequence(sequence(oid('1.2.3')), int(0)) })),
      'subjectPublicKey: expected tag 0x03, found 0x02',
    ],
    ['an empty subjectPublicKey', cert(tbs({ spki: sequence(sequence(oid('1.2.3')), tlv(TAG.BIT_STRING)) })), 'subjectPublicKey: empty bit string'],
    [
      'an issuerUniqueID running past the end',
      cert(tbs({ rest: [Buffer.from([ctxPrim(1), 5])] })),
      'issuerUniqueID: length 5 runs past the end of its container',
    ],
    ['an empty issuerUniqueID', cert(tbs({ rest: [tlv(ctxPrim(1))] })), 'issuerUniqueID: empty bit string'],
    [
      'a subjectUniqueID running past the end',
      cert(tbs({ rest: [Buffer.from([ctxPrim(2), 5])] })),
      'subjectUniqueID: length 5 runs past the end of its container',
    ],
    ['an empty subjectUniqueID', cert(tbs({ rest: [tlv(ctxPrim(2))] })), 'subjectUniqueID: empty bit string'],
    ['extensions running past the end', cert(tbs({ rest: [Buffer.from([ctx(3), 5])] })), 'extensions: length 5 runs past the end of its container'],
    ['trailing bytes in tbsCertificate', cert(tbs({ rest: [int(0)] })), 'tbsCertificate: 3 unexpected trailing bytes'],
    ['trailing bytes in extensions', cert(tbs({ rest: [tlv(ctx(3), sequence(), int(0))] })), 'extensions: 3 unexpected trailing bytes'],
    ['extensions in a v1 certificate', cert(tbs({ version: [], rest: [tlv(ctx(3), sequence())] })), 'extensions: extensions need a v3 certificate'],
    [
      'extensions in a v2 certificate',
      cert(tbs({ version: [tlv(ctx(0), int(1))], rest: [tlv(ctx(3), sequence())] })),
      'extensions: extensions need a v3 certificate',
    ],
    [
      'an issuerUniqueID in a v1 certificate',
      cert(tbs({ version: [], rest: [tlv(ctxPrim(1), Buffer.from([0, 1]))] })),
      'issuerUniqueID: unique identifiers need a v2 or v3 certificate',
    ],
    [
      'a subjectUniqueID in a v1 certificate',
      cert(tbs({ version: [], rest: [tlv(ctxPrim(2), Buffer.from([0, 1]))] })),
      'issuerUniqueID: unique identifiers need a v2 or v3 certificate',
    ],
  ];
  for (const [what, der, message] of cases) {
    it(what, () => refused(der, message));
  }

  it('reads v1, v2 and v3 certificates, with unique identifiers from v2 on', () => {
    const uid = (n: number): Buffer => tlv(ctxPrim(n), Buffer.from([0, 1]));
    assert.equal(new Certificate(cert(tbs({ version: [] }))).serialHex, '01');
    assert.equal(new Certificate(cert(tbs({ version: [tlv(ctx(0), int(1))], rest: [uid(1), uid(2)] }))).serialHex, '01');
    assert.equal(new Certificate(cert(tbs({ rest: [uid(1)] }))).serialHex, '01');
    assert.equal(new Certificate(cert(tbs({ rest: [uid(2)] }))).serialHex, '01');
  });

  it('is valid from notBefore to notAfter, both included', () => {
    const c = new Certificate(cert());
    assert.deepEqual(
      [c.notBefore - 1, c.notBefore, c.notAfter, c.notAfter + 1].map((t) => c.isValidAt(t)),
      [false, true, true, false],
    );
  });
});

describe('Certificate facts at their edges', () => {
  let pki: TestPki;
  before(async () => {
    pki = await makePki({ ocspUrl: 'http://127.0.0.1:9/ocsp' });
  });

  it('reads the key identifiers at their place, from a view into a larger buffer too', () => {
    const skid = Buffer.from('5ce1d0000000000000000000000000000000000a', 'hex');
    const akid = Buffer.from('a4e1d0000000000000000000000000000000000b', 'hex');
    const der = craftCertificate({
      issuer: pki.intermediate,
      extensions: [
        sequence(oid(OID.subjectKeyIdentifier), octetString(octetString(skid))),
        sequence(oid(OID.authorityKeyIdentifier), octetString(sequence(tlv(ctxPrim(0), akid)))),
      ],
    });
    const padded = Buffer.concat([Buffer.alloc(7, 0xee), der]).subarray(7);
    for (const c of [new Certificate(der), new Certificate(padded)]) {
      assert.deepEqual(Buffer.from(c.subjectKeyId!), skid);
      assert.deepEqual(Buffer.from(c.authorityKeyId!), akid);
    }
  });

  it('has no key identifiers, no EKU and no URLs when the extensions are absent', () => {
    const bare = new Certificate(craftCertificate({ issuer: pki.intermediate }));
    assert.equal(bare.subjectKeyId, null);
    assert.equal(bare.authorityKeyId, null);
    assert.equal(bare.extKeyUsage, null);
    assert.equal(bare.hasExtKeyUsage(OID.kpOcspSigning), false);
    assert.deepEqual([bare.ocspUrls, bare.caIssuersUrls, bare.unknownCriticalExtensions], [[], [], []]);
    assert.deepEqual([bare.mustStaple, bare.isCA], [false, false]);
  });

  it('reads extensions: understood critical ones, unknown ones, basicConstraints without cA, a full authorityKeyIdentifier', () => {
    const critical = tlv(TAG.BOOLEAN, Buffer.from([0xff]));
    const keyId = Buffer.alloc(20, 0x42);
    const c = new Certificate(
      craftCertificate({
        issuer: pki.intermediate,
        extensions: [
          sequence(oid('2.5.29.32'), critical, octetString(sequence())),
          sequence(oid('2.5.29.31'), critical, octetString(sequence())),
          sequence(oid('1.2.3.4'), octetString(sequence())),
          sequence(oid('1.2.3.5'), critical, octetString(sequence())),
          sequence(oid(OID.basicConstraints), octetString(sequence())),
          sequence(oid(OID.authorityKeyIdentifier), octetString(sequence(tlv(ctxPrim(0), keyId), tlv(ctx(1), NAME), tlv(ctxPrim(2), Buffer.from([1]))))),
        ],
      }),
    );
    assert.deepEqual(c.unknownCriticalExtensions, ['1.2.3.5']);
    assert.equal(c.isCA, false);
    assert.deepEqual(Buffer.from(c.authorityKeyId!), keyId);
  });

  it('names the malformed parts of extensions', () => {
    const refusedExt = (extensions: Buffer[], message: string): void => refused(craftCertificate({ issuer: pki.intermediate, extensions }), message);
    const bc = sequence(oid(OID.basicConstraints), octetString(sequence()));
    refusedExt([bc, bc], 'extension 2.5.29.19: duplicate extension');
    refusedExt([sequence(int(1), octetString(sequence()))], 'extension.extnID: expected tag 0x06, found 0x02');
    refusedExt([sequence(tlv(TAG.OID), octetString(sequence()))], 'extension.extnID: empty object identifier');
    refusedExt([sequence(oid('1.2.3.4'))], 'extension 1.2.3.4.extnValue: missing element');
    refusedExt([sequence(oid(OID.extKeyUsage), octetString(sequence(int(1))))], 'extKeyUsage: expected tag 0x06, found 0x02');
    refusedExt([sequence(oid(OID.extKeyUsage), octetString(sequence(tlv(TAG.OID))))], 'extKeyUsage: empty object identifier');
    refused(cert(tbs({ rest: [tlv(ctx(3), tlv(TAG.SET))] })), 'extensions: expected tag 0x30, found 0x31');
    refused(
      cert(tbs({ spki: sequence(sequence(oid('1.2.3'), tlv(TAG.BOOLEAN, Buffer.from([1]))), SIG) })),
      'subjectPublicKeyInfo.algorithm.parameters: boolean must be 0x00 or 0xFF',
    );
  });

  it('shares one empty list between certificates with extensions but no URLs or unknown critical ones', () => {
    const basicConstraints = sequence(oid(OID.basicConstraints), octetString(sequence()));
    const a = new Certificate(craftCertificate({ issuer: pki.intermediate, extensions: [basicConstraints] }));
    const b = new Certificate(craftCertificate({ issuer: pki.intermediate, extensions: [basicConstraints] }));
    assert.deepEqual(a.ocspUrls, []);
    assert.equal(a.ocspUrls, b.ocspUrls);
    assert.equal(a.caIssuersUrls, b.caIssuersUrls);
    assert.equal(a.unknownCriticalExtensions, b.unknownCriticalExtensions);
  });

  it('decodes the EKU list and hashes once, then answers from memory', () => {
    const c = new Certificate(pki.delegated.der);
    assert.ok(c.hasExtKeyUsage(OID.kpOcspSigning));
    assert.equal(c.extKeyUsage, c.extKeyUsage);
    assert.equal(c.keyHash('sha1'), c.keyHash('sha1'));
    assert.equal(c.subjectNameHash('sha256'), c.subjectNameHash('sha256'));
  });

  it('is issued only by a candidate of the right name, whatever its key', async () => {
    // The intermediate's own key, under another name.
    const sameKey = new Certificate(craftCertificate({ issuer: pki.intermediate, subject: nameWith(STRING_TAG.utf8, Buffer.from('Not The Intermediate')) }));
    assert.ok(pki.leaf.cert.isIssuedBy(pki.intermediate.cert));
    assert.equal(pki.leaf.cert.isIssuedBy(sameKey), false);
    assert.equal(await pki.leaf.cert.isIssuedByAsync(sameKey), false);
  });

  it('is not issued by a candidate whose key node:crypto cannot load, checked on the thread pool too', async () => {
    const spki = Buffer.from(pki.intermediate.cert.spki);
    const brokenKey = Buffer.from(pki.intermediate.der);
    brokenKey[brokenKey.indexOf(spki) + spki.length - 10]! ^= 0xff;
    const broken = new Certificate(brokenKey);
    assert.equal(broken.tryPublicKey(), undefined);
    assert.equal(await pki.leaf.cert.isIssuedByAsync(broken), false);
  });

  it('accepts a SHA-1 signature by default, and not when SHA-1 is refused', async () => {
    const issuer = pki.intermediate;
    const inner = tbs({ alg: sequence(oid(OID.ecdsaWithSha1)), issuer: Buffer.from(issuer.cert.subjectName), spki: Buffer.from(pki.leaf.cert.spki) });
    const signature = sign('sha1', inner, issuer.privateKey);
    const sha1 = new Certificate(cert(inner, sequence(oid(OID.ecdsaWithSha1)), tlv(TAG.BIT_STRING, Buffer.concat([Buffer.from([0]), signature]))));
    assert.equal(sha1.isIssuedBy(issuer.cert), true);
    assert.equal(sha1.isIssuedBy(issuer.cert, false), false);
    assert.equal(await sha1.isIssuedByAsync(issuer.cert), true);
    assert.equal(await sha1.isIssuedByAsync(issuer.cert, false), false);
  });
});
