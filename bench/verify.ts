// bench/verify: parse + verify per second, against the bare crypto.verify ceiling, measured
// side by side (interleaved rounds) in one run, for ECDSA P-256 and RSA-2048, with responses
// signed by the issuer and by a delegated responder. Also pkijs's parse alone, for context.
//
//   npm run bench:verify            (builds, then about a minute)
//   npm run bench:verify -- --quick (a smoke run)

import { verify as cryptoVerify } from 'node:crypto';
import * as pkijs from 'pkijs';
import type * as CoreTypes from '../src/ocsp/index.ts';
import { makePki, type KeyKind } from '../test/support/pki.ts';
import { buildResponse } from '../test/support/responses.ts';

// Time the compiled core (`npm run build`), which is what users run; types come from src.
type Core = typeof CoreTypes;
const core = (await import(new URL('../dist/ocsp/index.js', import.meta.url).href)) as Core;
const { parseResponse, verifyResponse } = core;

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 2 : 7;
const ROUND_MS = quick ? 150 : 600;

type Case = { name: string; run: () => void };

/** Run `fn` repeatedly for about `ms`; return operations per second. */
function rate(fn: () => void, ms: number): number {
  for (let i = 0; i < 50; i++) fn(); // warm-up
  let n = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(ms) * 1_000_000n;
  let now = start;
  while (now < end) {
    for (let i = 0; i < 20; i++) fn();
    n += 20;
    now = process.hrtime.bigint();
  }
  return n / (Number(now - start) / 1e9);
}

interface Summary {
  median: number;
  min: number;
  max: number;
}

function summarize(xs: number[]): Summary {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, min: s[0]!, max: s[s.length - 1]! };
}

/** Interleave the cases round by round so that machine noise hits them all alike. */
function measure(cases: Case[]): Map<string, Summary> {
  const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const c of r % 2 === 0 ? cases : [...cases].reverse()) samples.get(c.name)!.push(rate(c.run, ROUND_MS));
  }
  return new Map([...samples].map(([k, v]) => [k, summarize(v)]));
}

async function scenario(kind: KeyKind): Promise<string[]> {
  const pki = await makePki({ ocspUrl: 'http://127.0.0.1:9/ocsp', caKind: kind });
  const now = Date.now();
  const window = { thisUpdate: new Date(now - 60_000), nextUpdate: new Date(now + 86_400_000) };
  const issuerSigned = buildResponse({ cert: pki.leaf, issuer: pki.intermediate, ...window });
  const delegated = buildResponse({ cert: pki.leaf, issuer: pki.intermediate, signer: pki.delegated, responderIdBy: 'key', ...window });
  const input = { certificate: pki.leaf.cert, issuer: pki.intermediate.cert, now };
  for (const der of [issuerSigned, delegated]) if (!verifyResponse(der, input).ok) throw new Error('benchmark response does not verify');

  const basic = parseResponse(issuerSigned).basic!;
  const key = pki.intermediate.cert.publicKey();
  const tbs = Buffer.from(basic.tbsResponseData);
  const sig = Buffer.from(basic.signature);
  const bare = kind === 'rsa-2048' ? () => cryptoVerify('sha256', tbs, key, sig) : () => cryptoVerify('sha256', tbs, { key, dsaEncoding: 'der' }, sig);

  const cases: Case[] = [
    { name: 'bare crypto.verify (ceiling)', run: bare },
    { name: 'parse + verify, issuer-signed', run: () => verifyResponse(issuerSigned, input) },
    { name: 'parse + verify, delegated responder', run: () => verifyResponse(delegated, input) },
    { name: 'our parse only', run: () => parseResponse(issuerSigned) },
    {
      name: 'pkijs parse only',
      run: () => {
        const r = pkijs.OCSPResponse.fromBER(new Uint8Array(issuerSigned));
        pkijs.BasicOCSPResponse.fromBER(new Uint8Array(r.responseBytes!.response.valueBlock.valueHexView));
      },
    },
  ];
  const results = measure(cases);
  const ceiling = results.get('bare crypto.verify (ceiling)')!.median;
  const label = kind === 'rsa-2048' ? 'RSA-2048' : 'ECDSA P-256';
  const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
  return cases.map((c) => {
    const r = results.get(c.name)!;
    const ratio = c.name.includes('parse only') ? '' : `${((r.median / ceiling) * 100).toFixed(0)} %`;
    return `| ${label} | ${c.name} | ${fmt(r.median)} | ${fmt(r.min)}–${fmt(r.max)} | ${ratio} |`;
  });
}

const rows: string[] = [];
for (const kind of ['ec-p256', 'rsa-2048'] as const) rows.push(...(await scenario(kind)));
console.log(`bench/verify: ${ROUNDS} interleaved rounds of ${ROUND_MS} ms, median per case; Node ${process.version}\n`);
console.log('| key | case | per second (median) | range over rounds | of ceiling |');
console.log('|---|---|---:|---:|---:|');
for (const row of rows) console.log(row);
