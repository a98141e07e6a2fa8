// bench/lookup: the daemon responder's lookup (request bytes → CertID → certificate → its answer)
// at 1,000 and at N certificates (default 100,000): flat, or not? Each round parses a GET
// request's DER and looks its CertID up in the engine, 200,000 times over random certificates.
// The engine's fetcher fails at once (the CA does not matter here): the lookup is the same
// work with or without a staple.
//
//   npm run bench:lookup -- --count 100000

import { silentLogger } from '../src/engine/logger.ts';
import { StaplingEngine } from '../src/engine/engine.ts';
import { buildRequest, certIdFor } from '../src/ocsp/request.ts';
import { parseRequest } from '../src/ocsp/request-parse.ts';
import { Certificate } from '../src/ocsp/certificate.ts';
import { MemoryStore } from '../src/store/memory-store.ts';
import { makeMassPki, pemOf } from './support/mass-pki.ts';

const i = process.argv.indexOf('--count');
const COUNT = i > 0 ? Number(process.argv[i + 1]) : 100_000;
const LOOKUPS = 200_000;
const pki = await makeMassPki('http://127.0.0.1:9/');

async function measure(n: number): Promise<{ nsPerLookup: number; found: number; addUs: number; parseNs: number; lookupNs: number }> {
  const engine = new StaplingEngine({
    store: new MemoryStore(),
    logger: silentLogger,
    fetcher: { fetch: () => Promise.resolve({ ok: false, reason: 'fetch-network', message: 'bench' }), close: () => Promise.resolve() },
    refresh: { backoffInitialMs: 3_600_000 },
    responderRatePerSecond: 0,
  });
  const requests: Buffer[] = [];
  const chains: Buffer[] = [];
  for (let k = 0; k < n; k++) chains.push(Buffer.from(pemOf(pki.leafDer(k)) + pki.intermediate.pem));
  // add() with no fetch work worth the name beside it (each fetch fails at once): its own cost.
  const addStart = performance.now();
  for (const chain of chains) await engine.add(chain);
  const addUs = ((performance.now() - addStart) / n) * 1000;
  chains.length = 0;
  for (let k = 0; k < 1000; k++) requests.push(buildRequest(certIdFor(new Certificate(pki.leafDer(k % n), 'leaf'), pki.intermediate.cert)));
  // Requests for certificates spread over the whole set, so that the index is not warm on a few.
  for (let k = 0; requests.length < 2000; k += Math.max(1, Math.floor(n / 1000))) {
    requests.push(buildRequest(certIdFor(new Certificate(pki.leafDer(k % n), 'leaf'), pki.intermediate.cert)));
  }
  await engine.idle();
  let found = 0;
  const start = process.hrtime.bigint();
  for (let k = 0; k < LOOKUPS; k++) {
    const id = parseRequest(requests[k % requests.length]!).certIds[0]!;
    if (engine.lookupCertId(id)) found++;
  }
  const ns = Number(process.hrtime.bigint() - start) / LOOKUPS;
  // The two halves apart: the request's parse (no engine), and the lookup of CertIDs parsed beforehand.
  const ids = requests.map((r) => parseRequest(r).certIds[0]!);
  const parseStart = process.hrtime.bigint();
  for (let k = 0; k < LOOKUPS; k++) parseRequest(requests[k % requests.length]!);
  const parseNs = Number(process.hrtime.bigint() - parseStart) / LOOKUPS;
  const lookupStart = process.hrtime.bigint();
  for (let k = 0; k < LOOKUPS; k++) engine.lookupCertId(ids[k % ids.length]!);
  const lookupNs = Number(process.hrtime.bigint() - lookupStart) / LOOKUPS;
  await engine.close();
  return { nsPerLookup: ns, found, addUs, parseNs, lookupNs };
}

const rows: string[] = [];
for (const n of [1000, COUNT]) {
  const r = await measure(n);
  rows.push(
    `| ${n.toLocaleString('en-US')} | ${(r.nsPerLookup / 1000).toFixed(2)} µs | ${(r.parseNs / 1000).toFixed(2)} µs | ${(r.lookupNs / 1000).toFixed(2)} µs | ${r.found} of ${LOOKUPS} | ${r.addUs.toFixed(0)} µs |`,
  );
}
console.log(`bench/lookup: parse + CertID lookup, ${LOOKUPS} requests, Node ${process.version}\n`);
console.log(
  '| certificates | parse + lookup per request | parse alone | lookup alone | found | add() per certificate (memory store, fetches failing at once) |',
);
console.log('|---:|---:|---:|---:|---:|---:|');
for (const r of rows) console.log(r);
