// Regression tests built from attacks on the core: malformed names that made node:buffer throw,
// trailing bytes inside wrappers, unsigned junk in `certs`, a signed algorithm that differs from
// the outer one, counts that would make one response slow, and the response size ceiling.

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { Certificate, nameToString } from '../../src/ocsp/certificate.ts';
import { DerError, DerReader } from '../../src/ocsp/der.ts';
import { InputError } from '../../src/ocsp/errors.ts';
import { findIssuer, MAX_PEM_BYTES, pemBlocks, readCertificates } from '../../src/ocsp/pem.ts';
import { MAX_RESPONSE_BYTES_LIMIT, RESPONSE_CAPS } from '../../src/ocsp/response.ts';
import { readSignatureAlgorithm } from '../../src/ocsp/signature.ts';
import { verifyResponse, type Verdict } from '../../src/ocsp/verify.ts';
import { makePki, type TestPki } from '../support/pki.ts';
import { buildResponse, derTlv, type ResponseSpec } from '../support/responses.ts';
import { craftCertificate, ECDSA_SHA384, nameWith, STRING_TAG, toPem } from './craft.ts';

let pki: TestPki;
let now: number;
let base: ResponseSpec;
before(async () => {
  pki = await makePki({ ocspUrl: 'http://127.0.0.1:9/ocsp' });
  now = Date.now();
  base = { cert: pki.leaf, issuer: pki.intermediate, thisUpdate: new Date(now - 60_000), nextUpdate: new Date(now + 3_600_000) };
});

function verify(der: Buffer): Verdict {
  return verifyResponse(der, { certificate: pki.leaf.cert, issuer: pki.intermediate.cert, now });
}

function rejected(v: Verdict, reason: string, message: RegExp): void {
  assert.equal(v.ok ? 'ok' : v.reason, reason);
  assert.match(v.ok ? '' : v.message, message);
}

function inputError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InputError, `expected InputError, got ${err instanceof Error ? err.stack : String(err)}`);
    assert.match(err.message, pattern);
    return true;
  });
}

/** Names whose string encoding is broken, with what the error must say. */
const BAD_NAMES: readonly [string, number, Buffer, RegExp][] = [
  ['an odd-length BMPString', STRING_TAG.bmp, Buffer.from([0x00, 0x41, 0x00]), /BMPString is the wrong length/],
  ['a UniversalString not a multiple of 4 bytes', STRING_TAG.universal, Buffer.from([0, 0, 0, 0x41, 0, 0]), /UniversalString is the wrong length/],
  ['a UniversalString beyond U+10FFFF', STRING_TAG.universal, Buffer.from([0, 0x11, 0, 0]), /invalid code point/],
  ['a UTF8String that is not UTF-8', STRING_TAG.utf8, Buffer.from([0x41, 0xc3, 0x28]), /not valid UTF-8/],
  ['a UTF8String with an overlong encoding', STRING_TAG.utf8, Buffer.from([0xc0, 0xaf]), /not valid UTF-8/],
];

describe('no exception but the domain errors escapes the core', () => {
  it('reads well-formed BMPString, UniversalString and UTF8String names', () => {
    const bmp = new Certificate(
      craftCertificate({ issuer: pki.intermediate, subject: nameWith(STRING_TAG.bmp, Buffer.from('\u00e9t\u00e9', 'utf16le').swap16()) }),
    );
    assert.equal(bmp.subject, 'O=Stapler Test,CN=\u00e9t\u00e9');
    const universal = new Certificate(craftCertificate({ issuer: pki.intermediate, subject: nameWith(STRING_TAG.universal, Buffer.from([0, 1, 0xf6, 0x00])) }));
    assert.equal(universal.subject, 'O=Stapler Test,CN=\u{1f600}');
    // The crafted certificates are otherwise sound: node:crypto reads them, and they chain.
    assert.ok(new X509Certificate(craftCertificate({ issuer: pki.intermediate })).checkIssued(new X509Certificate(pki.intermediate.der)));
    assert.ok(new Certificate(craftCertificate({ issuer: pki.intermediate })).isIssuedBy(pki.intermediate.cert));
  });

  for (const [what, tag, value, message] of BAD_NAMES) {
    it(`a certificate whose subject is ${what} is an InputError, from Certificate, readCertificates and a response`, () => {
      const der = craftCertificate({ issuer: pki.intermediate, subject: nameWith(tag, value) });
      inputError(() => new Certificate(der, 'crafted.der'), new RegExp(`^crafted\\.der: not a valid certificate: subject: .*${message.source}`));
      inputError(() => readCertificates(der, 'crafted.der'), message);
      inputError(() => readCertificates(Buffer.from(toPem(der)), 'crafted.pem'), new RegExp(`^crafted\\.pem \\(certificate #1\\): .*${message.source}`));
      // Embedded in a genuine response: `certs` is unsigned, so anyone on the path can do this.
      rejected(verify(buildResponse({ ...base, rawCerts: [der] })), 'malformed', new RegExp(`certs\\[0\\]: .*${message.source}`));
      // A responder ID by name is shown with nameToString: a DerError, never a RangeError.
      assert.throws(
        () => nameToString(nameWith(tag, value)),
        (err: unknown) => err instanceof DerError && message.test(err.message),
      );
    });
  }

  it('findIssuer and isIssuedBy never throw on a candidate whose key node:crypto cannot load', () => {
    const spki = Buffer.from(pki.intermediate.cert.spki);
    const crafted = new Certificate(craftCertificate({ issuer: pki.intermediate }));
    // Same name as the intermediate, garbage key: a candidate issuer that cannot verify anything.
    const brokenKey = Buffer.from(pki.intermediate.der);
    const at = brokenKey.indexOf(spki);
    brokenKey[at + spki.length - 10]! ^= 0xff;
    const broken = new Certificate(brokenKey);
    assert.equal(broken.tryPublicKey(), undefined);
    assert.equal(findIssuer(crafted, [broken]), undefined);
    assert.equal(findIssuer(crafted, [broken, pki.intermediate.cert]), pki.intermediate.cert);
  });
});

describe('every wrapper must be consumed whole', () => {
  const pssOid = Buffer.from([0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a]);
  const sha256 = derTlv(0x30, Buffer.from([0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00]));
  const mgf1 = (inner: Buffer): Buffer => derTlv(0x30, Buffer.concat([Buffer.from([0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08]), inner]));
  const pss = (params: Buffer[]): Buffer => derTlv(0x30, Buffer.concat([pssOid, derTlv(0x30, Buffer.concat(params))]));
  const read = (der: Buffer): unknown => {
    const { reader, tlv } = DerReader.whole(derTlv(0x30, der), 'test');
    const seq = reader.enter(tlv, 'test');
    return readSignatureAlgorithm(seq, 'signatureAlgorithm');
  };
  it('reads RSASSA-PSS parameters, and refuses trailing bytes inside the [1] maskGenAlgorithm wrapper', () => {
    const good = pss([derTlv(0xa0, sha256), derTlv(0xa1, mgf1(sha256)), derTlv(0xa2, Buffer.from([0x02, 0x01, 0x20]))]);
    assert.deepEqual(read(good), { kind: 'rsa-pss', name: 'RSASSA-PSS/sha256', hash: 'sha256', saltLength: 32 });
    const trailing = pss([
      derTlv(0xa0, sha256),
      derTlv(0xa1, Buffer.concat([mgf1(sha256), Buffer.from([0x05, 0x00])])),
      derTlv(0xa2, Buffer.from([0x02, 0x01, 0x20])),
    ]);
    assert.throws(
      () => read(trailing),
      (err: unknown) => err instanceof DerError && /maskGenAlgorithm: 2 unexpected trailing bytes/.test(err.message),
    );
    const trailingHash = pss([derTlv(0xa0, Buffer.concat([sha256, Buffer.from([0x05, 0x00])]))]);
    assert.throws(
      () => read(trailingHash),
      (err: unknown) => err instanceof DerError && /hashAlgorithm: 2 unexpected trailing bytes/.test(err.message),
    );
  });
  it('refuses a certificate whose signed signature algorithm differs from the outer one (RFC 5280 4.1.1.2)', () => {
    const der = craftCertificate({ issuer: pki.intermediate, innerAlgorithm: ECDSA_SHA384 });
    inputError(() => new Certificate(der, 'mismatch.der'), /tbsCertificate\.signature: differs from the outer signatureAlgorithm/);
    rejected(verify(buildResponse({ ...base, rawCerts: [der] })), 'malformed', /certs\[0\]: .*differs from the outer signatureAlgorithm/);
  });
});

describe('embedded certificates are all parsed, signer or not', () => {
  it('a genuine response with a junk SEQUENCE {} appended to certs is malformed (OpenSSL refuses it too)', () => {
    const genuine = buildResponse({ ...base, certs: [pki.intermediate] });
    assert.ok(verify(genuine).ok);
    rejected(
      verify(buildResponse({ ...base, certs: [pki.intermediate], rawCerts: [Buffer.from([0x30, 0x00])] })),
      'malformed',
      /^embedded certs\[1\]: not a valid certificate/,
    );
    const delegated = buildResponse({ ...base, signer: pki.delegated, rawCerts: [Buffer.from([0x30, 0x00])] });
    rejected(verify(delegated), 'malformed', /certs\[1\]/);
    // Also after the delegated responder has been proven and cached.
    assert.ok(verify(buildResponse({ ...base, signer: pki.delegated })).ok);
    rejected(verify(delegated), 'malformed', /certs\[1\]/);
  });
  it(`at most ${RESPONSE_CAPS.certs} embedded certificates`, () => {
    const full = Array.from({ length: RESPONSE_CAPS.certs }, () => pki.intermediate);
    assert.ok(verify(buildResponse({ ...base, certs: full })).ok);
    rejected(
      verify(buildResponse({ ...base, certs: [...full, pki.intermediate] })),
      'malformed',
      new RegExp(`more than ${RESPONSE_CAPS.certs} embedded certificates`),
    );
  });
});

describe('counts are capped before any signature work', () => {
  const ext = (i: number): { oid: string; value: Buffer } => ({ oid: `1.2.3.4.${i}`, value: Buffer.from([5, 0]) });
  it(`at most ${RESPONSE_CAPS.extensions} extensions in a response, response and single extensions together`, () => {
    const full = Array.from({ length: RESPONSE_CAPS.extensions }, (_, i) => ext(i));
    const half = RESPONSE_CAPS.extensions / 2;
    assert.ok(verify(buildResponse({ ...base, responseExtensions: full })).ok);
    assert.ok(verify(buildResponse({ ...base, responseExtensions: full.slice(0, half), extensions: full.slice(half) })).ok);
    rejected(
      verify(buildResponse({ ...base, responseExtensions: [...full, ext(999)] })),
      'malformed',
      /^malformed response: responseExtensions: more than 32 extensions in the response/,
    );
    rejected(verify(buildResponse({ ...base, extensions: [...full, ext(999)] })), 'malformed', /responses\[0\]\.singleExtensions: more than 32 extensions/);
    // Spread over many SingleResponses: the count is per response, not per list.
    const spread = Array.from({ length: 9 }, (_, i) => ({ ...base, cert: pki.rsaLeaf, serialHex: (0x200 + i).toString(16), extensions: full.slice(0, 4) }));
    rejected(
      verify(buildResponse({ ...base, extraSingles: spread })),
      'malformed',
      /responses\[9\]\.singleExtensions: more than 32 extensions in the response/,
    );
  });
  it('a duplicate extension is refused, wherever it is in the list', () => {
    const list = Array.from({ length: RESPONSE_CAPS.extensions - 1 }, (_, i) => ext(i));
    rejected(verify(buildResponse({ ...base, responseExtensions: [...list, ext(0)] })), 'malformed', /duplicate extension 1\.2\.3\.4\.0/);
  });
});

describe('response size ceiling', () => {
  it(`MAX_RESPONSE_BYTES_LIMIT is 1 MiB, and verifyResponse refuses a maxResponseBytes setting above it`, () => {
    assert.equal(MAX_RESPONSE_BYTES_LIMIT, 1_048_576);
    const der = buildResponse(base);
    const at = (maxResponseBytes: number): Verdict =>
      verifyResponse(der, { certificate: pki.leaf.cert, issuer: pki.intermediate.cert, now, settings: { maxResponseBytes } });
    assert.ok(at(MAX_RESPONSE_BYTES_LIMIT).ok);
    for (const bad of [MAX_RESPONSE_BYTES_LIMIT + 1, 0, -1, 1.5, Number.NaN])
      inputError(() => at(bad), /^maxResponseBytes: must be a whole number of bytes from 1 to 1048576/);
  });
});

describe('PEM reading is linear and capped', () => {
  // The attack: BEGIN lines with no END line. The regular expression this replaced rescanned the
  // rest of the input from every one of them: 1000 KiB blocked the event loop for 17.4 s.
  const attack = (bytes: number, line: (i: number) => string): Buffer => {
    const parts: string[] = [];
    let size = 0;
    for (let i = 0; size < bytes; i++) {
      const l = line(i);
      parts.push(l);
      size += l.length;
    }
    return Buffer.from(parts.join('').slice(0, bytes));
  };
  it('reads a 1 MiB input of BEGIN lines without END lines, and says it is truncated', () => {
    inputError(
      () =>
        readCertificates(
          attack(MAX_PEM_BYTES, () => '-----BEGIN CERTIFICATE-----\n'),
          'attack.pem',
        ),
      /^attack\.pem: has a PEM block that is truncated or corrupt$/,
    );
    // Distinct labels: a per-label search would rescan the rest for each.
    inputError(
      () =>
        readCertificates(
          attack(MAX_PEM_BYTES, (i) => `-----BEGIN X${i}-----\n`),
          'labels.pem',
        ),
      /^labels\.pem: has a PEM block that is truncated or corrupt$/,
    );
  });
  it('still finds a certificate after a 1 MiB run of unterminated BEGIN lines, and between blocks of other types', () => {
    const pem = toPem(pki.leaf.der);
    const prefix = attack(MAX_PEM_BYTES - pem.length - 200, () => '-----BEGIN TRUSTED CERTIFICATE-----\n');
    const certs = readCertificates(Buffer.concat([prefix, Buffer.from(`\n${pem}`)]), 'mixed.pem');
    assert.equal(certs.length, 1);
    // A BEGIN line inside a body makes that body invalid base64, as before.
    inputError(() => readCertificates(Buffer.from(`-----BEGIN CERTIFICATE-----\n${pem}`), 'nested.pem'), /certificate #1 has invalid base64/);
    const blocks = pemBlocks(`-----BEGIN A-----\nx\n-----BEGIN B-----\ny\n-----END A-----\n-----END B-----\n-----BEGIN A-----\nz\n-----END A-----`);
    assert.deepEqual(
      blocks.map((b) => [b.type, b.body.trim()]),
      [
        ['A', 'x\n-----BEGIN B-----\ny'],
        ['A', 'z'],
      ],
    );
  });
  it(`refuses input over MAX_PEM_BYTES (${MAX_PEM_BYTES}), naming the item`, () => {
    assert.equal(MAX_PEM_BYTES, 1_048_576);
    inputError(() => readCertificates(Buffer.alloc(MAX_PEM_BYTES + 1, 0x41), 'huge.pem'), /^huge\.pem: is 1048577 bytes, over the 1048576-byte limit/);
  });
});
