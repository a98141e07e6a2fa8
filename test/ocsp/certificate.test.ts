import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { Certificate } from '../../src/ocsp/certificate.ts';
import { serialHex } from '../../src/ocsp/bytes.ts';
import { InputError } from '../../src/ocsp/errors.ts';
import { findIssuer, readCertificates, readChain } from '../../src/ocsp/pem.ts';
import { fullchain, issue, makePki, type Issued, type TestPki } from '../support/pki.ts';

let pki: TestPki;
before(async () => {
  pki = await makePki({ ocspUrl: 'http://127.0.0.1:9/ocsp', caKind: 'rsa-2048' });
});

function inputError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InputError, `expected InputError, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('certificate facts', () => {
  it('match what node:crypto reads, for every certificate of the test PKI', () => {
    for (const issued of Object.values(pki) as Issued[]) {
      const ours = issued.cert;
      const node = new X509Certificate(issued.der);
      assert.equal(ours.serialHex, node.serialNumber.toUpperCase(), issued.name);
      assert.equal(ours.notBefore, Date.parse(node.validFrom), issued.name);
      assert.equal(ours.notAfter, Date.parse(node.validTo), issued.name);
      assert.equal(ours.isCA, node.ca, issued.name);
      assert.ok(ours.subject.includes(`CN=${issued.name}`), ours.subject);
      assert.ok(node.publicKey.equals(ours.publicKey()), issued.name);
      const eku = node.keyUsage ?? null;
      assert.deepEqual(ours.extKeyUsage ? [...ours.extKeyUsage].sort() : null, eku ? [...eku].sort() : null, issued.name);
    }
  });
  it('reads OCSP and caIssuers URLs from AIA, in order', () => {
    assert.deepEqual(pki.leaf.cert.ocspUrls, ['http://127.0.0.1:9/ocsp']);
    assert.deepEqual(pki.leaf.cert.caIssuersUrls, ['http://127.0.0.1:1/ca.crt']);
    assert.deepEqual(pki.noAiaLeaf.cert.ocspUrls, []);
  });
  it('reads several OCSP URLs in AIA order', async () => {
    const c = await issue({ name: 'two.test', issuer: pki.intermediate, ocspUrls: ['http://a.test/1', 'http://b.test/2'] });
    assert.deepEqual(c.cert.ocspUrls, ['http://a.test/1', 'http://b.test/2']);
  });
  it('detects Must-Staple (TLS Feature status_request) and only there', () => {
    assert.equal(pki.mustStapleLeaf.cert.mustStaple, true);
    assert.equal(pki.leaf.cert.mustStaple, false);
    assert.equal(pki.intermediate.cert.mustStaple, false);
  });
  it('knows delegated responders by their EKU', () => {
    assert.ok(pki.delegated.cert.hasExtKeyUsage('1.3.6.1.5.5.7.3.9'));
    assert.ok(!pki.delegatedNoEku.cert.hasExtKeyUsage('1.3.6.1.5.5.7.3.9'));
  });
  it('keeps the serial bytes exactly, including a sign-padding zero', async () => {
    const c = await issue({ name: 'high-serial.test', issuer: pki.intermediate, serial: '8f00000000000001' });
    assert.equal(Buffer.from(c.cert.serial).toString('hex'), '008f00000000000001');
    assert.equal(c.cert.serialHex, '8F00000000000001');
  });
});

describe('reading PEM and DER', () => {
  it('reads a chain in order from PEM, and one certificate from DER', () => {
    const chain = readCertificates(Buffer.from(fullchain(pki.leaf, pki.intermediate, pki.root)), 'chain.pem');
    assert.deepEqual(
      chain.map((c) => c.serialHex),
      [pki.leaf, pki.intermediate, pki.root].map((c) => c.cert.serialHex),
    );
    assert.equal(readCertificates(pki.leaf.der, 'leaf.der')[0]!.serialHex, pki.leaf.cert.serialHex);
  });
  it('ignores a private key next to the certificates (HAProxy keeps both in one file)', () => {
    const pem = pki.leaf.pem + pki.leaf.keyPem + pki.intermediate.pem;
    assert.equal(readCertificates(Buffer.from(pem), 'combined.pem').length, 2);
  });
  it('names the file and the reason for bad input', () => {
    inputError(() => readCertificates(Buffer.alloc(0), 'empty.pem'), /^empty\.pem: is empty$/);
    inputError(() => readCertificates(Buffer.from(pki.leaf.keyPem), 'key.pem'), /^key\.pem: holds a private key, not a certificate$/);
    inputError(() => readCertificates(Buffer.from('hello world\n'), 'notes.txt'), /^notes\.txt: is neither PEM nor DER$/);
    const truncated = pki.leaf.pem.slice(0, pki.leaf.pem.length - 40);
    inputError(() => readCertificates(Buffer.from(truncated), 'cut.pem'), /^cut\.pem: has a PEM block that is truncated or corrupt$/);
    const corrupt = pki.leaf.pem.replace(/\n(.{10})/, '\n!!!!!!!!!!');
    inputError(() => readCertificates(Buffer.from(corrupt), 'bad.pem'), /^bad\.pem: certificate #1 has invalid base64$/);
    const garbled = Buffer.from(pki.leaf.der);
    garbled[garbled.length - 300]! ^= 0xff;
    garbled.writeUInt8(0x31, 4); // break the tbsCertificate tag
    inputError(() => readCertificates(garbled, 'garbled.der'), /^garbled\.der: not a valid certificate: tbsCertificate: expected tag 0x30/);
  });
  it('reuses an already parsed chain certificate when asked, never for the first (the leaf)', () => {
    const known = (der: Uint8Array): Certificate | undefined => (Buffer.compare(der, pki.intermediate.der) === 0 ? pki.intermediate.cert : undefined);
    const chain = readCertificates(Buffer.from(fullchain(pki.leaf, pki.intermediate, pki.root)), 'chain.pem', known);
    assert.equal(chain[1], pki.intermediate.cert, 'the known instance, not a new parse');
    assert.notEqual(chain[2], pki.root.cert);
    assert.equal(chain[2]!.serialHex, pki.root.cert.serialHex);
    const first = readCertificates(Buffer.from(fullchain(pki.intermediate, pki.root)), 'ca.pem', known);
    assert.notEqual(first[0], pki.intermediate.cert);
  });
  it('rejects a certificate with trailing garbage', () => {
    inputError(() => new Certificate(Buffer.concat([pki.leaf.der, Buffer.from([0])]), 'trail.der'), /trailing bytes/);
  });
});

describe('finding the issuer', () => {
  it('finds the issuer by signature, not by name alone', async () => {
    // Same subject name as the real intermediate, different key: a name match that must not win.
    const impostor = await issue({ name: 'Stapler Test Intermediate', kind: 'rsa-2048', ca: true, issuer: pki.root });
    assert.equal(impostor.cert.subject, pki.intermediate.cert.subject);
    assert.equal(findIssuer(pki.leaf.cert, [impostor.cert, pki.root.cert, pki.intermediate.cert]), pki.intermediate.cert);
    assert.equal(findIssuer(pki.leaf.cert, [impostor.cert, pki.root.cert]), undefined);
  });
  it('checks the signature the same way on the thread pool: the real issuer, not a same-name impostor, a leaf, or a key of another type', async () => {
    const impostor = await issue({ name: 'Stapler Test Intermediate', kind: 'rsa-2048', ca: true, issuer: pki.root });
    const ecImpostor = await issue({ name: 'Stapler Test Intermediate', kind: 'ec-p256', ca: true, issuer: pki.root });
    for (const [leaf, candidate, expected] of [
      [pki.leaf, pki.intermediate, true],
      [pki.rsaLeaf, pki.intermediate, true],
      [pki.intermediate, pki.root, true],
      [pki.leaf, impostor, false],
      [pki.leaf, ecImpostor, false],
      [pki.leaf, pki.root, false],
      [pki.leaf, pki.rsaLeaf, false],
    ] as const) {
      assert.equal(await leaf.cert.isIssuedByAsync(candidate.cert), expected, `${leaf.name} by ${candidate.name}`);
      assert.equal(leaf.cert.isIssuedBy(candidate.cert), expected, `${leaf.name} by ${candidate.name} (sync)`);
    }
  });
  it('finds the issuer anywhere in a chain, whatever the order', () => {
    const loaded = readChain(Buffer.from(fullchain(pki.leaf, pki.root, pki.intermediate)), 'chain.pem');
    assert.equal(loaded.issuer?.serialHex, pki.intermediate.cert.serialHex);
  });
  it('reports no issuer when the chain lacks it', () => {
    assert.equal(readChain(Buffer.from(pki.leaf.pem), 'leaf.pem').issuer, undefined);
  });
});

describe('serial numbers in hex', () => {
  it('are written as openssl prints them: upper case, without the sign-padding zero byte', () => {
    assert.equal(serialHex(Uint8Array.of(0x00, 0x9f, 0x0a)), '9F0A');
    assert.equal(serialHex(Uint8Array.of(0x10, 0x03)), '1003');
    assert.equal(serialHex(Uint8Array.of(0x00)), '00');
  });
});
