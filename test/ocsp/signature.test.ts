// Signature algorithms, read from hand-built AlgorithmIdentifiers and checked with node:crypto:
// each test kills a mutant that StrykerJS found alive in src/ocsp/signature.ts
// (`npm run mutation -- ocsp`, docs/contributing.md).

import assert from 'node:assert/strict';
import { createSecretKey, generateKeyPairSync, constants, sign } from 'node:crypto';
import { describe, it } from 'node:test';
import { DerError, DerReader } from '../../src/ocsp/der.ts';
import { derNull, oid, sequence, tlv } from '../../src/ocsp/der-writer.ts';
import { OID } from '../../src/ocsp/oids.ts';
import { checkSignature, checkSignatureAsync, readSignatureAlgorithm, type SignatureAlgorithm } from '../../src/ocsp/signature.ts';

/** Read an AlgorithmIdentifier (given as its DER) the way the response parser does. */
function read(algorithmIdentifier: Buffer): SignatureAlgorithm {
  const { reader, tlv: outer } = DerReader.whole(sequence(algorithmIdentifier), 'test');
  return readSignatureAlgorithm(reader.enter(outer, 'test'), 'signatureAlgorithm');
}
const explicit = (n: number, inner: Buffer): Buffer => tlv(0xa0 | n, inner);
const hashAlg = (dotted: string): Buffer => sequence(oid(dotted), derNull());
const pss = (...params: Buffer[]): Buffer => sequence(oid(OID.rsassaPss), sequence(...params));
const mgf1 = (dotted: string): Buffer => sequence(oid(OID.mgf1), hashAlg(dotted));

describe('readSignatureAlgorithm', () => {
  it('names every algorithm it knows (the names appear in every signature message)', () => {
    const table: [string, SignatureAlgorithm][] = [
      [OID.sha1WithRSA, { kind: 'rsa-pkcs1', name: 'sha1WithRSAEncryption', hash: 'sha1' }],
      [OID.sha256WithRSA, { kind: 'rsa-pkcs1', name: 'sha256WithRSAEncryption', hash: 'sha256' }],
      [OID.sha384WithRSA, { kind: 'rsa-pkcs1', name: 'sha384WithRSAEncryption', hash: 'sha384' }],
      [OID.sha512WithRSA, { kind: 'rsa-pkcs1', name: 'sha512WithRSAEncryption', hash: 'sha512' }],
      [OID.ecdsaWithSha1, { kind: 'ecdsa', name: 'ecdsa-with-SHA1', hash: 'sha1' }],
      [OID.ecdsaWithSha256, { kind: 'ecdsa', name: 'ecdsa-with-SHA256', hash: 'sha256' }],
      [OID.ecdsaWithSha384, { kind: 'ecdsa', name: 'ecdsa-with-SHA384', hash: 'sha384' }],
      [OID.ecdsaWithSha512, { kind: 'ecdsa', name: 'ecdsa-with-SHA512', hash: 'sha512' }],
      [OID.ed25519, { kind: 'ed25519', name: 'Ed25519' }],
    ];
    for (const [dotted, expected] of table) {
      assert.deepEqual(read(sequence(oid(dotted))), expected, dotted);
      assert.deepEqual(read(sequence(oid(dotted), derNull())), expected, `${dotted} with NULL parameters`);
    }
  });

  it('reads an unknown algorithm as unsupported, naming its OID', () => {
    assert.deepEqual(read(sequence(oid('1.2.3.4.5'))), { kind: 'unsupported', name: '1.2.3.4.5', detail: 'signature algorithm 1.2.3.4.5 is not supported' });
  });

  it('reads RSASSA-PSS: the RFC 4055 defaults (SHA-1, MGF1 with SHA-1, salt 20) and explicit SHA-256', () => {
    assert.deepEqual(read(pss()), { kind: 'rsa-pss', name: 'RSASSA-PSS/sha1', hash: 'sha1', saltLength: 20 });
    const sha256 = read(pss(explicit(0, hashAlg(OID.sha256)), explicit(1, mgf1(OID.sha256)), explicit(2, tlv(0x02, Buffer.from([32])))));
    assert.deepEqual(sha256, { kind: 'rsa-pss', name: 'RSASSA-PSS/sha256', hash: 'sha256', saltLength: 32 });
  });

  it('reads PSS with an unknown mask generation function, whatever its parameters, as unsupported, naming it', () => {
    for (const params of [[derNull()], [sequence(oid('1.2.3'))], []]) {
      const alg = read(pss(explicit(0, hashAlg(OID.sha256)), explicit(1, sequence(oid('1.2.3.9'), ...params))));
      assert.deepEqual(alg, { kind: 'unsupported', name: 'RSASSA-PSS', detail: 'mask generation 1.2.3.9 is not MGF1' });
    }
  });

  it('reads PSS whose hash is unknown as unsupported, even when MGF1 names the same unknown hash', () => {
    const alg = read(pss(explicit(0, hashAlg('1.2.3.7')), explicit(1, mgf1('1.2.3.7'))));
    assert.deepEqual(alg, { kind: 'unsupported', name: 'RSASSA-PSS', detail: 'PSS with an unknown hash or a different MGF1 hash is not supported' });
    assert.equal(read(pss(explicit(0, hashAlg(OID.sha256)), explicit(1, mgf1(OID.sha1)))).kind, 'unsupported', 'MGF1 with another hash');
  });
  it('names the field of a malformed PSS parameter, and where it starts', () => {
    const fails = (der: Buffer, field: string, detail: string, offset?: number): void => {
      assert.throws(
        () => read(der),
        (err: unknown) => err instanceof DerError && err.field === field && err.detail === detail && (offset === undefined || err.offset === offset),
        `${field}: ${detail}`,
      );
    };
    const p = 'signatureAlgorithm.parameters';
    fails(sequence(oid(OID.rsassaPss), tlv(0x02, Buffer.from([1]))), p, 'expected tag 0x30, found 0x02');
    fails(pss(explicit(0, sequence(oid(OID.sha256), derNull(), derNull()))), `${p}.hashAlgorithm`, '2 unexpected trailing bytes');
    fails(pss(explicit(1, sequence(oid(OID.mgf1), tlv(0x02, Buffer.from([1]))))), `${p}.maskGenAlgorithm`, 'expected tag 0x30, found 0x02');
    fails(pss(explicit(2, tlv(0x02, Buffer.from([0xff])))), `${p}.saltLength`, 'negative value');
    // The [3] starts after the outer SEQUENCE (2 bytes), the AlgorithmIdentifier's header (2), its OID (11), the parameters' header (2).
    fails(pss(explicit(3, tlv(0x02, Buffer.from([2])))), `${p}.trailerField`, 'trailer field must be 1', 17);
    assert.equal(read(pss(explicit(3, tlv(0x02, Buffer.from([1]))))).kind, 'rsa-pss', 'trailer field 1');
  });
});

describe('checkSignature', () => {
  const data = Buffer.from('tbsResponseData');
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ecdsa: SignatureAlgorithm = { kind: 'ecdsa', name: 'ecdsa-with-SHA256', hash: 'sha256' };

  it('verifies PSS from a key of type rsa-pss (an RSASSA-PSS SubjectPublicKeyInfo), not only rsa', () => {
    const k = generateKeyPairSync('rsa-pss', { modulusLength: 2048 });
    assert.equal(k.publicKey.asymmetricKeyType, 'rsa-pss');
    const sig = sign('sha256', data, { key: k.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
    assert.deepEqual(checkSignature({ kind: 'rsa-pss', name: 'RSASSA-PSS/sha256', hash: 'sha256', saltLength: 32 }, data, sig, k.publicKey, false), {
      ok: true,
    });
  });

  it('says why a signature fails: the wrong key type, a signature that does not verify, SHA-1 refused', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const sig = sign('sha256', data, ec.privateKey);
    assert.deepEqual(checkSignature(ecdsa, data, sig, rsa.publicKey, false), {
      ok: false,
      reason: 'bad-signature',
      detail: 'ecdsa-with-SHA256 signature cannot come from a rsa key',
    });
    assert.deepEqual(checkSignature(ecdsa, data, sig, createSecretKey(Buffer.alloc(32)), false), {
      ok: false,
      reason: 'bad-signature',
      detail: 'ecdsa-with-SHA256 signature cannot come from a unknown key',
    });
    assert.deepEqual(checkSignature(ecdsa, Buffer.from('other bytes'), sig, ec.publicKey, false), {
      ok: false,
      reason: 'bad-signature',
      detail: 'ecdsa-with-SHA256 signature does not verify',
    });
    assert.deepEqual(checkSignature(ecdsa, data, sig, ec.publicKey, false), { ok: true }, 'the control');
    const sha1: SignatureAlgorithm = { kind: 'ecdsa', name: 'ecdsa-with-SHA1', hash: 'sha1' };
    assert.deepEqual(checkSignature(sha1, data, sign('sha1', data, ec.privateKey), ec.publicKey, false), {
      ok: false,
      reason: 'weak-algorithm',
      detail: 'ecdsa-with-SHA1 uses SHA-1, which is refused unless explicitly allowed',
    });
  });
});

describe('a signature node:crypto cannot check', () => {
  it('fails with the reason node:crypto gives, on the event loop and on the thread pool', async () => {
    // A key restricted to SHA-256 (an RSASSA-PSS key with parameters) asked to check SHA-512: node:crypto throws.
    const k = generateKeyPairSync('rsa-pss', { modulusLength: 1024, hashAlgorithm: 'sha256', mgf1HashAlgorithm: 'sha256' });
    const alg: SignatureAlgorithm = { kind: 'rsa-pss', name: 'RSASSA-PSS/sha512', hash: 'sha512', saltLength: 32 };
    const data = Buffer.from('tbsResponseData');
    const expected = /^RSASSA-PSS\/sha512 signature could not be checked: .*digest not allowed/;
    for (const got of [
      checkSignature(alg, data, Buffer.alloc(128), k.publicKey, false),
      await checkSignatureAsync(alg, data, Buffer.alloc(128), k.publicKey, false),
    ]) {
      assert.ok(!got.ok);
      assert.equal(got.reason, 'bad-signature');
      assert.match(got.detail, expected);
    }
  });
});
