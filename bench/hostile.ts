// bench/hostile: the worst responses we could build within the size limit (64 KiB), and what one
// parse + verify of each costs the event loop, side by side with a normal response in one run.
// Every call is synchronous, so its wall time is the time the event loop is blocked. Target:
// at most 10 ms per response.
//
//   npm run bench:hostile            (about half a minute)
//   npm run bench:hostile -- --quick (a smoke run for CI: a few seconds)
//   STAPLER_CORE=/path/to/ocsp/index.ts npm run bench:hostile   (the same cases on another core)

import { sign } from 'node:crypto';
import { oid as oidDer } from '../src/ocsp/der-writer.ts';
import type * as CoreTypes from '../src/ocsp/index.ts';
import { craftCertificate, craftName, fromTree, STRING_TAG, toTree, type Node } from '../test/ocsp/craft.ts';
import { makePki } from '../test/support/pki.ts';
import { buildResponse, type ExtensionSpec, type ResponseSpec } from '../test/support/responses.ts';

type Core = typeof CoreTypes;
const coreUrl = process.env.STAPLER_CORE ? new URL(`file://${process.env.STAPLER_CORE}`) : new URL('../src/ocsp/index.ts', import.meta.url);
const core = (await import(coreUrl.href)) as Core;
const quick = process.argv.includes('--quick');
const RUNS = quick ? 3 : 100;
const gc = (globalThis as { gc?: () => void }).gc;
const KiB = 1024;
const LIMIT = 64 * KiB;

const pki = await makePki({ ocspUrl: 'http://127.0.0.1:9/ocsp' });
const now = Date.now();
const base: ResponseSpec = { cert: pki.leaf, issuer: pki.intermediate, thisUpdate: new Date(now - 60_000), nextUpdate: new Date(now + 86_400_000) };
const input = { certificate: pki.leaf.cert, issuer: pki.intermediate.cert, now };

/** The largest n for which build(n) stays within the size limit (builds are monotonic in n). */
function fill(build: (n: number) => Buffer, from: number): Buffer {
  let n = from;
  let best = build(n);
  for (let step = Math.max(1, from); step >= 1; step = Math.floor(step / 2)) {
    while (true) {
      // pkijs cannot re-read what it wrote past 64 KiB: that also counts as too big.
      let next: Buffer;
      try {
        next = build(n + step);
      } catch {
        break;
      }
      if (next.length > LIMIT) break;
      n += step;
      best = next;
    }
  }
  return best;
}

const others = (n: number): ResponseSpec[] => Array.from({ length: n }, (_, i) => ({ ...base, cert: pki.rsaLeaf, serialHex: (0x100000 + i).toString(16) }));
const tinyExt = (i: number): ExtensionSpec => ({ oid: `1.2.${i}`, value: Buffer.from([0x05, 0x00]) });

/** The parts of a response, as a tree: the outer layers, the BasicOCSPResponse and its tbsResponseData. */
function open(response: Buffer): { top: Node; octets: Node; basic: Node; tbs: Node } {
  const top = toTree(response)[0]!;
  const octets = top.children![1]!.children![0]!.children![1]!;
  const basic = toTree(octets.content!)[0]!;
  return { top, octets, basic, tbs: basic.children![0]! };
}

/**
 * Edit a response's tbsResponseData and sign it again with the issuer's key: pkijs cannot build
 * the largest of these (it fails to re-read its own output past 32 KiB), so they are built by
 * hand from a small one.
 */
function resigned(response: Buffer, edit: (tbs: Node) => void): Buffer {
  const { top, octets, basic, tbs } = open(response);
  edit(tbs);
  basic.children![2]!.content = Buffer.concat([Buffer.from([0]), sign('sha256', fromTree([tbs]), pki.intermediate.privateKey)]);
  octets.content = fromTree([basic]);
  return fromTree([top]);
}

/** Replace the BasicOCSPResponse's signature with `bytes` of junk (the response stays well-formed). */
function withSignature(response: Buffer, bytes: number): Buffer {
  const { top, octets, basic } = open(response);
  basic.children![2]!.content = Buffer.concat([Buffer.from([0]), Buffer.alloc(bytes, 0x5a)]);
  octets.content = fromTree([basic]);
  return fromTree([top]);
}

const copies = (node: Node, n: number): Node[] => Array.from({ length: n }, () => node);
/** n SingleResponses for other serials, then ours. */
const singles = (n: number): Buffer =>
  resigned(buildResponse({ ...base, extraSingles: others(1) }), (tbs) => {
    const [ours, other] = tbs.children![2]!.children!;
    tbs.children![2]!.children = [...copies(other!, n), ours!];
  });
/** n distinct tiny response extensions, then the first one again. */
const tinyExtensions = (n: number): Buffer =>
  resigned(buildResponse({ ...base, responseExtensions: [tinyExt(0)] }), (tbs) => {
    const list = tbs.children![3]!.children![0]!;
    const made = Array.from({ length: n }, (_, i): Node => ({
      tag: 0x30,
      children: [...toTree(oidDer(`1.2.${i}`)), { tag: 0x04, content: Buffer.from([5, 0]) }],
    }));
    list.children = [...made, list.children![0]!];
  });
/** 32 response extensions (the cap) of n bytes each. */
const bigExtensions = (n: number): Buffer =>
  resigned(
    buildResponse({ ...base, responseExtensions: Array.from({ length: 32 }, (_, i) => ({ oid: `1.3.6.1.4.1.99999.${i}`, value: Buffer.alloc(1) })) }),
    (tbs) => {
      for (const e of tbs.children![3]!.children![0]!.children!) e.children![1]!.content = Buffer.alloc(n, 0x41);
    },
  );
/** n SingleResponses of 32 extensions each, then ours. */
const singlesWithExtensions = (n: number): Buffer =>
  resigned(buildResponse({ ...base, extraSingles: [{ ...others(1)[0]!, extensions: Array.from({ length: 32 }, (_, i) => tinyExt(i)) }] }), (tbs) => {
    const [ours, other] = tbs.children![2]!.children!;
    tbs.children![2]!.children = [...copies(other!, n), ours!];
  });

// A certificate whose subject is thousands of RDNs: linear to read, and it is read in full.
const manyRdns = (n: number): Buffer =>
  craftName(...Array.from({ length: n }, (_, i) => [[0x55, 0x04, 0x03], STRING_TAG.bmp, Buffer.from(`n${i}`, 'utf16le').swap16()] as const));
// Look-alike responders: the delegated responder's name, issued by another CA.
const lookAlike = craftCertificate({ issuer: pki.root, subject: Buffer.from(pki.delegated.cert.subjectName) });

interface Case {
  readonly name: string;
  readonly der: Buffer;
}
const cases: Case[] = [
  { name: 'normal: issuer-signed, one SingleResponse', der: buildResponse(base) },
  { name: 'normal: delegated responder, certificate embedded', der: buildResponse({ ...base, signer: pki.delegated }) },
  { name: '256 SingleResponses (the cap), ours last', der: singles(255) },
  { name: 'SingleResponses filling 64 KiB, ours last', der: fill(singles, 256) },
  { name: '32 extensions (the cap) filling 64 KiB', der: fill(bigExtensions, 1000) },
  { name: 'tiny extensions filling 64 KiB, a duplicate last', der: fill(tinyExtensions, 1000) },
  { name: 'SingleResponses of 32 extensions each, filling 64 KiB', der: fill(singlesWithExtensions, 16) },
  { name: '16 embedded certificates (the cap), issuer-signed', der: buildResponse({ ...base, certs: Array.from({ length: 16 }, () => pki.delegated) }) },
  { name: 'embedded certificates filling 64 KiB', der: fill((n) => buildResponse({ ...base, certs: Array.from({ length: n }, () => pki.delegated) }), 100) },
  {
    name: 'one embedded certificate of thousands of RDNs',
    der: fill((n) => buildResponse({ ...base, rawCerts: [craftCertificate({ issuer: pki.intermediate, subject: manyRdns(n) })] }), 1000),
  },
  {
    name: '15 look-alike responders, then the real one',
    der: buildResponse({ ...base, signer: pki.delegated, certs: [], rawCerts: [...Array.from({ length: 15 }, () => lookAlike), pki.delegated.der] }),
  },
  { name: 'a 60 KiB signature', der: withSignature(buildResponse(base), 60 * KiB) },
  {
    name: 'a responder name of thousands of RDNs',
    der: fill(
      (n) =>
        resigned(
          buildResponse(base),
          (tbs) =>
            (tbs.children![0]!.children = toTree(
              craftName(...Array.from({ length: n }, (_, i) => [[0x55, 0x04, 0x03], STRING_TAG.utf8, Buffer.from(`x${i}`)] as const)),
            )),
        ),
      1000,
    ),
  },
];

function timeOne(fn: () => unknown): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

interface Row {
  readonly name: string;
  readonly bytes: number;
  readonly outcome: string;
  readonly first: number;
  readonly median: number;
  readonly p90: number;
  readonly max: number;
}

function measure(name: string, bytes: number, fn: () => string): Row {
  // Start each case from a collected heap, so that one case's garbage is not charged to the next.
  gc?.();
  let outcome = '';
  const warmUp = timeOne(() => (outcome = fn()));
  // A call that takes seconds (an older core on these inputs) is measured once, not a hundred times.
  if (warmUp > 500) return { name, bytes, outcome, first: warmUp, median: warmUp, p90: warmUp, max: warmUp };
  const first = timeOne(fn);
  const times: number[] = [first];
  for (let i = 0; i < RUNS; i++) times.push(timeOne(fn));
  times.sort((a, b) => a - b);
  return {
    name,
    bytes,
    outcome,
    first,
    median: times[Math.floor(times.length / 2)]!,
    p90: times[Math.floor(times.length * 0.9)]!,
    max: times[times.length - 1]!,
  };
}

const rows: Row[] = [];
// Interleaved: every case once per pass, so that machine noise hits them alike.
for (const c of cases) {
  if (c.der.length > LIMIT) throw new Error(`${c.name}: ${c.der.length} bytes, over the limit`);
  rows.push(
    measure(c.name, c.der.length, () => {
      const v = core.verifyResponse(c.der, input);
      return v.ok ? `ok (${v.certStatus})` : v.reason;
    }),
  );
}

// PEM: the unterminated-BEGIN flood, at the 1 MiB input cap, against a normal chain.
const chain = Buffer.from(pki.leaf.pem + pki.intermediate.pem);
const flood = Buffer.from('-----BEGIN CERTIFICATE-----\n'.repeat(Math.floor((1024 * KiB - 1) / 28)));
const pemRows = [
  measure('PEM: a two-certificate chain', chain.length, () => `${core.readCertificates(chain, 'chain.pem').length} certificates`),
  measure('PEM: 1 MiB of BEGIN lines without END lines', flood.length, () => {
    try {
      core.readCertificates(flood, 'flood.pem');
      return 'read';
    } catch (err) {
      return (err as Error).name;
    }
  }),
];

const ms = (n: number): string => (n < 0.1 ? n.toFixed(3) : n.toFixed(2));
const normal = rows[0]!.median;
console.log(`bench/hostile: ${RUNS} runs per case after one warm-up, event-loop time per call (ms); Node ${process.version}; core ${coreUrl.pathname}\n`);
console.log('| response | bytes | verdict | first call | median | p90 | max | median ÷ normal |');
console.log('|---|---:|---|---:|---:|---:|---:|---:|');
for (const r of rows)
  console.log(`| ${r.name} | ${r.bytes} | ${r.outcome} | ${ms(r.first)} | ${ms(r.median)} | ${ms(r.p90)} | ${ms(r.max)} | ${(r.median / normal).toFixed(1)} |`);
console.log('\n| certificate input | bytes | result | first call | median | p90 | max |');
console.log('|---|---:|---|---:|---:|---:|---:|');
for (const r of pemRows) console.log(`| ${r.name} | ${r.bytes} | ${r.outcome} | ${ms(r.first)} | ${ms(r.median)} | ${ms(r.p90)} | ${ms(r.max)} |`);
// The max is the machine's noise as much as ours (a GC, another process): the p90 is judged.
const worst = Math.max(...rows.map((r) => r.p90));
console.log(`\nworst p90 over all responses: ${ms(worst)} ms (target: at most 10 ms); worst max: ${ms(Math.max(...rows.map((r) => r.max)))} ms`);
if (quick) console.log('(--quick: a smoke run of 3 calls per case, too few to judge the target)');
if (worst > 10 && !quick) process.exitCode = 1;
