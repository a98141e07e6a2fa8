// Fuzzing the DER reader with a fixed seed and a bounded count: random and mutated inputs
// must never throw anything but DerError (or, for certificates, InputError), verification
// must never throw at all, and the parser's work must stay linear in the input length.

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { Certificate, nameToString } from '../../src/ocsp/certificate.ts';
import { findIssuer, readCertificates } from '../../src/ocsp/pem.ts';
import { buildRequest, certIdFor } from '../../src/ocsp/request.ts';
import { DerBudget, DerError } from '../../src/ocsp/der.ts';
import { InputError } from '../../src/ocsp/errors.ts';
import { parseRequest, REQUEST_CAPS } from '../../src/ocsp/request-parse.ts';
import { parseResponse, RESPONSE_CAPS } from '../../src/ocsp/response.ts';
import { verifyResponse } from '../../src/ocsp/verify.ts';
import { Prng } from '../support/prng.ts';
import { buildResponse } from '../support/responses.ts';
import { buildVectors, type VectorSet } from '../support/vectors.ts';
import { craftCertificate, mutateStructure, nameWith, STRING_TAG, toPem } from './craft.ts';

const SEED = Number(process.env.STAPLER_FUZZ_SEED ?? 0x5eed5);
const MUTATIONS = Number(process.env.STAPLER_FUZZ_COUNT ?? 20_000);
/** Measured steps per input byte stay under this; the budget's hard limit is 4 per byte. */
const STEPS_PER_BYTE = 1.5;

let set: VectorSet;
before(async () => {
  set = await buildVectors();
});

const INTERESTING = [0x00, 0x01, 0x02, 0x04, 0x05, 0x06, 0x0a, 0x18, 0x30, 0x7f, 0x80, 0x81, 0x82, 0x84, 0x85, 0xa0, 0xa1, 0xa2, 0xff];

function mutate(rng: Prng, input: Buffer): Buffer {
  const b = Buffer.from(input);
  const rounds = 1 + rng.int(4);
  let out = b;
  for (let r = 0; r < rounds && out.length > 0; r++) {
    const at = rng.int(out.length);
    switch (rng.int(7)) {
      case 0:
        out[at]! ^= 1 << rng.int(8);
        break;
      case 1:
        out[at] = rng.pick(INTERESTING);
        break;
      case 2:
        out = out.subarray(0, at);
        break;
      case 3:
        out = Buffer.concat([out.subarray(0, at), rng.bytes(1 + rng.int(8)), out.subarray(at)]);
        break;
      case 4:
        out = Buffer.concat([out.subarray(0, at), out.subarray(Math.min(out.length, at + 1 + rng.int(16)))]);
        break;
      case 5: {
        const len = 1 + rng.int(32);
        out = Buffer.concat([out.subarray(0, at), out.subarray(at, at + len), out.subarray(at)]);
        break;
      }
      default:
        out[at] = (out[at]! + (rng.next() < 0.5 ? 1 : 255)) & 0xff;
    }
  }
  return out;
}

/** Parse with a measured budget; return the steps used, or throw what the parser threw. */
function parseCounting(der: Buffer): { steps: number; error: unknown } {
  const budget = DerBudget.forInput(der.length);
  try {
    parseResponse(der, budget);
    return { steps: budget.steps, error: null };
  } catch (err) {
    return { steps: budget.steps, error: err };
  }
}

function checkOne(der: Buffer, label: string): void {
  const { steps, error } = parseCounting(der);
  if (error !== null && !(error instanceof DerError)) assert.fail(`${label}: threw ${error instanceof Error ? error.stack : typeof error}`);
  if (error instanceof DerError) assert.doesNotMatch(error.message, /work limit/, `${label}: super-linear work`);
  assert.ok(steps <= STEPS_PER_BYTE * der.length + 16, `${label}: ${steps} steps for ${der.length} bytes`);
}

describe('fuzzing the response parser', () => {
  it(`survives ${MUTATIONS} mutations of the test vectors (seed ${SEED})`, () => {
    const rng = new Prng(SEED);
    const corpus = set.vectors.filter((v) => v.der.length > 0 && v.der.length < 8192);
    let parsedOk = 0;
    for (let i = 0; i < MUTATIONS; i++) {
      const seed = rng.pick(corpus);
      const der = i % 4 === 3 ? mutateStructure(rng, seed.der) : mutate(rng, seed.der);
      checkOne(der, `mutation ${i} of "${seed.name}"`);
      const verdict = verifyResponse(der, { certificate: seed.cert, issuer: seed.issuer, now: set.now });
      assert.equal(typeof verdict.ok, 'boolean');
      if (verdict.ok) parsedOk++;
    }
    // Some mutations land outside the signed bytes and stay acceptable; most must not.
    assert.ok(parsedOk < MUTATIONS / 2, `${parsedOk} mutations were still acceptable`);
  });
  it('survives random bytes', () => {
    const rng = new Prng(SEED + 1);
    for (let i = 0; i < 5_000; i++) {
      const der = rng.bytes(rng.int(600));
      if (rng.next() < 0.7 && der.length > 0) der[0] = 0x30;
      checkOne(der, `random input ${i}`);
    }
  });
  it('never accepts a response whose signed bytes were changed', () => {
    const rng = new Prng(SEED + 2);
    const good = set.vectors.find((v) => v.name === 'issuer-signed, responder by name')!;
    const tbs = parseResponse(good.der).basic!.tbsResponseData;
    const start = good.der.indexOf(Buffer.from(tbs));
    for (let i = 0; i < 2_000; i++) {
      const der = Buffer.from(good.der);
      der[start + rng.int(tbs.length)]! ^= 1 << rng.int(8);
      const v = verifyResponse(der, { certificate: good.cert, issuer: good.issuer, now: set.now });
      assert.equal(v.ok, false, `flip ${i} was accepted`);
    }
  });
});

/** Run `fn`; anything thrown must be one of the core's domain errors. */
function onlyDomainErrors(label: string, fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch (err) {
    if (!(err instanceof InputError) && !(err instanceof DerError)) assert.fail(`${label} threw ${err instanceof Error ? err.stack : typeof err}`);
    return false;
  }
}

describe('fuzzing the request parser (the daemon responder reads what any client sends)', () => {
  it(`survives mutations of SHA-1/SHA-256 requests, with and without a nonce, in linear work (seed ${SEED})`, () => {
    const rng = new Prng(SEED + 7);
    const leaf = set.pki.leaf.cert;
    const issuer = set.pki.intermediate.cert;
    const corpus = [
      buildRequest(certIdFor(leaf, issuer)),
      buildRequest(certIdFor(leaf, issuer, 'sha256'), { nonce: Buffer.alloc(32, 3) }),
      buildRequest([certIdFor(leaf, issuer), certIdFor(leaf, issuer, 'sha256')], { nonce: Buffer.alloc(16, 9) }),
    ];
    let readOk = 0;
    for (let i = 0; i < MUTATIONS / 4; i++) {
      const seed = rng.pick(corpus);
      const der = i % 4 === 3 ? mutateStructure(rng, seed) : mutate(rng, seed);
      const budget = DerBudget.forInput(der.length);
      try {
        parseRequest(der, budget);
        readOk++;
      } catch (err) {
        if (!(err instanceof DerError)) assert.fail(`request mutation ${i} threw ${err instanceof Error ? err.stack : typeof err}`);
        assert.doesNotMatch(err.message, /work limit/, `request mutation ${i}: super-linear work`);
      }
      assert.ok(budget.steps <= STEPS_PER_BYTE * der.length + 16, `request mutation ${i}: ${budget.steps} steps for ${der.length} bytes`);
    }
    assert.ok(readOk < MUTATIONS / 8, `${readOk} mutations were still read`);
  });
  it(`a request with ${REQUEST_CAPS.requests} CertIDs costs linear work; one more is refused`, () => {
    const id = certIdFor(set.pki.leaf.cert, set.pki.intermediate.cert);
    const most = buildRequest(Array.from({ length: REQUEST_CAPS.requests }, () => id));
    const budget = DerBudget.forInput(most.length);
    assert.equal(parseRequest(most, budget).certIds.length, REQUEST_CAPS.requests);
    assert.ok(budget.steps <= STEPS_PER_BYTE * most.length + 16);
    assert.throws(() => parseRequest(buildRequest(Array.from({ length: REQUEST_CAPS.requests + 1 }, () => id))), DerError);
  });
});

describe('fuzzing the certificate parser', () => {
  it('no exception but InputError or DerError escapes any public function, on mutated certificates and responses embedding them', () => {
    const rng = new Prng(SEED + 3);
    const issuer = set.pki.intermediate;
    // Names in every string type the reader decodes, so that mutations hit each decoder.
    const crafted = [
      nameWith(STRING_TAG.bmp, Buffer.from('r\u00e9pondeur', 'utf16le').swap16()),
      nameWith(STRING_TAG.universal, Buffer.from([0, 0, 0, 0x41, 0, 1, 0xf6, 0])),
      nameWith(STRING_TAG.utf8, Buffer.from('\u00e9t\u00e9 \u{1f600}')),
      nameWith(STRING_TAG.t61, Buffer.from('caf\xe9', 'latin1')),
      nameWith(STRING_TAG.ia5, Buffer.from('host.test')),
    ].map((subject) => craftCertificate({ issuer, subject }));
    const certs = [set.pki.leaf.der, set.pki.rsaLeaf.der, set.pki.delegated.der, set.pki.intermediate.der, ...crafted];
    const base = { cert: set.pki.leaf, issuer, thisUpdate: new Date(set.now - 60_000), nextUpdate: new Date(set.now + 3_600_000) };
    let parsed = 0;
    for (let i = 0; i < 4_000; i++) {
      const der = i % 2 === 0 ? mutate(rng, rng.pick(certs)) : mutateStructure(rng, rng.pick(certs));
      const label = `certificate mutation ${i}`;
      let cert: Certificate | undefined;
      if (onlyDomainErrors(label, () => (cert = new Certificate(der, 'fuzzed')))) parsed++;
      onlyDomainErrors(`${label} as PEM`, () => readCertificates(Buffer.from(toPem(der)), 'fuzzed.pem'));
      onlyDomainErrors(`${label} as a name`, () => nameToString(der));
      if (cert) {
        const c = cert;
        onlyDomainErrors(`${label}: findIssuer`, () => findIssuer(c, [set.pki.root.cert, issuer.cert, c]));
        onlyDomainErrors(`${label}: facts`, () => [c.subject, c.issuer, c.serialHex, c.extKeyUsage, c.keyHash('sha256'), c.subjectNameHash('sha1')]);
        onlyDomainErrors(`${label}: request`, () => buildRequest(certIdFor(c, issuer.cert)));
        onlyDomainErrors(`${label}: request for it as issuer`, () => buildRequest(certIdFor(set.pki.leaf.cert, c, 'sha256')));
      }
      // Embedded in an otherwise genuine response (certs are not signed): a verdict, never a throw.
      if (i % 8 === 0) {
        const response = buildResponse({ ...base, rawCerts: [der] });
        const verdict = verifyResponse(response, { certificate: set.pki.leaf.cert, issuer: issuer.cert, now: set.now });
        assert.equal(typeof verdict.ok, 'boolean');
        // (An empty mutant adds no element to certs.)
        if (!cert && der.length > 0)
          assert.equal(verdict.ok, false, `${label}: a response embedding an unparsable certificate was accepted: ${der.toString('hex')}`);
      }
    }
    // The mutations must exercise both sides.
    assert.ok(parsed > 100 && parsed < 3_900, `${parsed} of 4000 mutated certificates parsed`);
  });
});

describe('adversarial shapes stay linear', () => {
  it(`a response with ${RESPONSE_CAPS.singleResponses} SingleResponses costs linear work, and ours is still found; one more is refused`, async () => {
    const { pki, now } = set;
    const base = { issuer: pki.intermediate, thisUpdate: new Date(now - 60_000), nextUpdate: new Date(now + 3_600_000) };
    const others = Array.from({ length: RESPONSE_CAPS.singleResponses }, (_, i) => ({ ...base, cert: pki.rsaLeaf, serialHex: (0x100000 + i).toString(16) }));
    const der = buildResponse({ ...base, cert: pki.leaf, extraSingles: others.slice(1) });
    const { steps, error } = parseCounting(der);
    assert.equal(error, null);
    assert.equal(parseResponse(der).basic!.responses.length, RESPONSE_CAPS.singleResponses);
    assert.ok(steps <= STEPS_PER_BYTE * der.length + 16, `${steps} steps for ${der.length} bytes`);
    assert.ok(verifyResponse(der, { certificate: pki.leaf.cert, issuer: pki.intermediate.cert, now }).ok);
    const over = buildResponse({ ...base, cert: pki.leaf, extraSingles: others });
    const v = verifyResponse(over, { certificate: pki.leaf.cert, issuer: pki.intermediate.cert, now });
    assert.equal(v.ok ? 'ok' : v.reason, 'malformed');
    assert.match(v.ok ? '' : v.message, new RegExp(`more than ${RESPONSE_CAPS.singleResponses} SingleResponses`));
  });
  it('a maximal object identifier is read in bounded work, and an oversized one refused', async () => {
    const { pki, now } = set;
    const base = { cert: pki.leaf, issuer: pki.intermediate, thisUpdate: new Date(now - 60_000), nextUpdate: new Date(now + 3_600_000) };
    const longOid = `1.3.${Array.from({ length: 60 }, (_, i) => 1000 + i).join('.')}`;
    const der = buildResponse({ ...base, signatureAlgorithmOid: longOid.split('.').slice(0, 33).join('.') });
    checkOne(der, 'long OID');
    const v = verifyResponse(der, { certificate: pki.leaf.cert, issuer: pki.intermediate.cert, now });
    assert.equal(v.ok ? 'ok' : v.reason, 'unsupported-algorithm');
    const tooLong = buildResponse({ ...base, signatureAlgorithmOid: longOid });
    const t = verifyResponse(tooLong, { certificate: pki.leaf.cert, issuer: pki.intermediate.cert, now });
    assert.equal(t.ok ? 'ok' : t.reason, 'malformed');
  });
});
