// The rule for embedded certificates: never staple what OpenSSL would refuse to parse. Strict
// clients (OpenSSL, and curl --cert-status through it) parse every certificate in `certs`, and
// `certs` is not signed, so anyone on the path can add one. For a set of mutated responses, if
// `openssl ocsp -respin … -noverify` cannot read the response, our verdict must be a rejection.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { verifyResponse } from '../../src/ocsp/verify.ts';
import { craftCertificate, ECDSA_SHA384, mutateStructure, nameWith, STRING_TAG } from '../ocsp/craft.ts';
import { openssl } from '../support/openssl.ts';
import { peerSkip } from '../support/peers.ts';
import { makePki, type TestPki } from '../support/pki.ts';
import { Prng } from '../support/prng.ts';
import { buildResponse, type ResponseSpec } from '../support/responses.ts';

const skip = peerSkip('openssl');
const MUTANTS = Number(process.env.STAPLER_OPENSSL_MUTANTS ?? 160);

let dir: string;
let pki: TestPki;
let now: number;
let base: ResponseSpec;
before(async () => {
  if (skip) return;
  dir = await mkdtemp(join(tmpdir(), 'stapler-openssl-parse-'));
  pki = await makePki({ ocspUrl: 'http://127.0.0.1:9/ocsp' });
  now = Date.now();
  base = { cert: pki.leaf, issuer: pki.intermediate, thisUpdate: new Date(now - 60_000), nextUpdate: new Date(now + 3_600_000) };
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** True when OpenSSL can read the response (its signature is not checked: -noverify). */
async function opensslParses(der: Buffer, name: string): Promise<boolean> {
  const file = join(dir, `${name}.der`);
  await writeFile(file, der);
  const r = await openssl(['ocsp', '-respin', file, '-noverify', '-resp_text'], dir);
  return r.code === 0;
}

describe('embedded certificates against OpenSSL', { skip }, () => {
  it('a genuine response parses in both; with a junk SEQUENCE {} appended to certs, OpenSSL refuses it and so do we', async () => {
    const genuine = buildResponse({ ...base, certs: [pki.intermediate] });
    assert.equal(await opensslParses(genuine, 'genuine'), true);
    assert.ok(verifyResponse(genuine, { certificate: pki.leaf.cert, issuer: pki.intermediate.cert, now }).ok);
    const junk = buildResponse({ ...base, certs: [pki.intermediate], rawCerts: [Buffer.from([0x30, 0x00])] });
    assert.equal(await opensslParses(junk, 'junk'), false);
    const v = verifyResponse(junk, { certificate: pki.leaf.cert, issuer: pki.intermediate.cert, now });
    assert.equal(v.ok ? 'ok' : v.reason, 'malformed');
  });

  it(`for ${MUTANTS} mutated embedded certificates, whatever OpenSSL cannot parse we reject`, async () => {
    const rng = new Prng(0xce27);
    const seeds = [
      pki.delegated.der,
      pki.intermediate.der,
      craftCertificate({ issuer: pki.intermediate, subject: nameWith(STRING_TAG.bmp, Buffer.from('resp', 'utf16le').swap16()) }),
      craftCertificate({ issuer: pki.intermediate, subject: nameWith(STRING_TAG.universal, Buffer.from([0, 0, 0, 0x41])) }),
    ];
    const fixed = [
      Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00]),
      craftCertificate({ issuer: pki.intermediate, subject: nameWith(STRING_TAG.bmp, Buffer.from([0, 0x41, 0])) }),
      craftCertificate({ issuer: pki.intermediate, subject: nameWith(STRING_TAG.universal, Buffer.from([0, 0, 0x41])) }),
      craftCertificate({ issuer: pki.intermediate, innerAlgorithm: ECDSA_SHA384 }),
    ];
    const mutants = [...fixed, ...Array.from({ length: MUTANTS - fixed.length }, () => mutateStructure(rng, rng.pick(seeds)))];
    await compareWithOpenssl(mutants.map((cert) => buildResponse({ ...base, certs: [pki.intermediate], rawCerts: [cert] })));
  });

  it(`for ${MUTANTS / 2} mutated whole responses (every field), whatever OpenSSL cannot parse we reject`, async () => {
    const rng = new Prng(0xce28);
    const seeds = [
      buildResponse({ ...base, certs: [pki.intermediate] }),
      buildResponse({ ...base, signer: pki.delegated, status: 'revoked', revocationTime: new Date(now - 3_600_000), revocationReason: 1 }),
    ];
    await compareWithOpenssl(Array.from({ length: MUTANTS / 2 }, () => mutateStructure(rng, rng.pick(seeds))));
  });
});

async function compareWithOpenssl(responses: readonly Buffer[]): Promise<void> {
  let refusedByOpenssl = 0;
  const disagreements: string[] = [];
  // A few at a time: the machine is shared.
  for (let i = 0; i < responses.length; i += 4) {
    await Promise.all(
      responses.slice(i, i + 4).map(async (der, k) => {
        const n = i + k;
        const parses = await opensslParses(der, `mutant-${n}`);
        const v = verifyResponse(der, { certificate: pki.leaf.cert, issuer: pki.intermediate.cert, now });
        if (!parses) {
          refusedByOpenssl++;
          if (v.ok) disagreements.push(`mutant ${n}: OpenSSL refuses it and we accepted it (${der.toString('hex')})`);
        }
      }),
    );
  }
  assert.deepEqual(disagreements, []);
  // Both outcomes must occur, or the comparison proves nothing.
  assert.ok(refusedByOpenssl >= 5 && refusedByOpenssl < responses.length, `OpenSSL refused ${refusedByOpenssl} of ${responses.length}`);
}
