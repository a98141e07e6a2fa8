// `npm run demo`: a self-contained run on loopback, with no internet. A local CA and a local
// OCSP responder; Stapler fetches and verifies, and refuses every bad answer the responder
// is made to give. Prints a timeline and stops by itself.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchStaple, type FetchStapleResult } from '../src/fetch/fetch-staple.ts';
import { OcspHttpClient } from '../src/fetch/http.ts';
import { parseResponse } from '../src/ocsp/response.ts';
import { responseText } from '../src/cli/describe.ts';
import { fullchain, makePki } from '../test/support/pki.ts';
import { TestResponder, type Behaviour } from '../test/support/responder.ts';

const start = Date.now();
const stamp = (): string => `+${((Date.now() - start) / 1000).toFixed(2)}s`.padStart(8);
const say = (s: string): void => console.log(`${stamp()}  ${s}`);

const responder = new TestResponder();
const url = await responder.listen();
const dir = await mkdtemp(join(tmpdir(), 'stapler-demo-'));
const client = new OcspHttpClient({ timeoutMs: 1_000 });
try {
  say(`local OCSP responder listening on ${url}`);
  const pki = await makePki({ ocspUrl: url });
  responder.serve(pki);
  await writeFile(join(dir, 'fullchain.pem'), fullchain(pki.leaf, pki.intermediate));
  say(`local CA issued ${pki.leaf.cert.subject} (serial ${pki.leaf.cert.serialHex}), OCSP URL from its AIA: ${pki.leaf.cert.ocspUrls[0]}`);

  const fetchOnce = (): Promise<FetchStapleResult> => fetchStaple({ certificate: pki.leaf.cert, issuer: pki.intermediate.cert, client, now: Date.now });
  const describe = (r: FetchStapleResult): string => {
    const a = r.attempts[r.attempts.length - 1]!;
    if (!a.ok) return `failed: ${a.error.reason} (${a.error.message})`;
    const v = a.verdict;
    return v.ok ? `ACCEPTED ${v.certStatus}, valid until ${new Date(v.validUntil).toISOString()} (signed by ${v.signer === 'issuer' ? 'the issuer' : 'a delegated responder'})` : `REJECTED ${v.reason}: ${v.message}`;
  };

  const good = await fetchOnce();
  say(`fetch (${good.accepted?.response.method}): ${describe(good)}`);
  if (good.accepted) console.log(`\n${responseText(parseResponse(good.accepted.der), good.accepted.der.length).replace(/^/gm, '          ')}\n`);

  const faults: [Behaviour, string][] = [
    ['hang', 'the responder hangs'],
    ['tryLater', 'the responder says tryLater'],
    ['wrong-serial', "the responder answers for another certificate's serial"],
    ['expired', 'the responder serves an expired response'],
    ['future-this-update', 'the responder serves a response from an hour in the future'],
    ['bad-signature', 'the response signature is corrupted'],
    ['unauthorized-signer', 'a certificate without the OCSP-signing EKU signs'],
    ['unknown', 'the responder does not know the certificate'],
    ['delegated', 'an authorized delegated responder signs'],
    ['revoked', 'the CA revokes the certificate'],
  ];
  for (const [behaviour, story] of faults) {
    responder.behaviour = behaviour;
    say(`${story}: ${describe(await fetchOnce())}`);
  }
  say(`done: ${responder.requestCount} requests to the responder; every bad answer was refused`);
} finally {
  await client.close();
  await responder.close();
  await rm(dir, { recursive: true, force: true });
}
