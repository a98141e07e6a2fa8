// bench/get-path: what a hostile GET path costs the daemon's OCSP responder (issue 16 item 7),
// against a valid GET, through the real listener and route, side by side with another checkout
// (the baseline) in one run. The figure is the servers' process CPU time per request, with the
// load generator in a forked process (its CPU does not count). Target: the worst path within the
// header limit costs at most 3x a valid GET.
//
//   npm run bench:get-path
//   npm run bench:get-path -- --quick                      (a smoke run: CI runs this)
//   STAPLER_BASELINE=/work/main npm run bench:get-path     (also the baseline's route, same run)

import { fork } from 'node:child_process';
import { ctx } from '../src/ocsp/der.ts';
import { octetString, oid, sequence, tlv } from '../src/ocsp/der-writer.ts';
import { buildRequest, certIdFor, encodeCertId } from '../src/ocsp/request.ts';
import { REQUEST_CAPS } from '../src/ocsp/request-parse.ts';
import { percentile } from './support/client.ts';
import type { LoadJob, LoadResult } from './support/ocsp-load.ts';
import { checkouts, responderRig, type Responder } from './support/responder-rig.ts';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 1 : 5;
const ROUND_MS = quick ? 300 : 1_500;
const CONNECTIONS = 4;

const rig = await responderRig();
const { pki } = rig;
const trees: Responder[] = [];
for (const c of checkouts()) trees.push(await rig.responder(c));

// Paths within the listener's 8 KiB header limit (the request line and a few headers).
const fill = (unit: string): string => unit.repeat(Math.floor(7_900 / unit.length));
const sha512 = certIdFor(pki.leaf.cert, pki.intermediate.cert, 'sha512');
const paths = [
  { name: 'valid GET (URL-encoded base64)', path: rig.path, valid: true },
  {
    name: 'valid GET after a 1 KiB prefix (too long for the memo: decoded, parsed and looked up each time)',
    path: `/${'p'.repeat(1_024)}${rig.path}`,
    valid: true,
  },
  { name: '`/x` x 3,950 (nothing to decode: the 8 KiB request line alone)', path: fill('/x') },
  { name: "`/%41` x 1,975 (the issue's)", path: fill('/%41') },
  { name: '`/%4D` x 1,975 (each suffix base64)', path: fill('/%4D') },
  { name: '`/M` x 3,950 (each suffix base64, no %)', path: fill('/M') },
  { name: '`/M` + 2,500 x `%41`, then `/M` x 30', path: `/M${'%41'.repeat(2_500)}${'/M'.repeat(30)}` },
  { name: '32 suffixes, each a DER header declaring its length', path: lengthDeclaring(32) },
  {
    name: `${REQUEST_CAPS.requests} SHA-512 CertIDs and a nonce (the most the parser reads; the responder refuses the list at its second CertID)`,
    path: `/${encodeURIComponent(buildRequest(Array(REQUEST_CAPS.requests).fill(sha512), { nonce: Buffer.alloc(32, 1) }).toString('base64'))}`,
  },
  {
    name: `${REQUEST_CAPS.requests + 1} SHA-512 CertIDs (one past the parser's cap, which read ${REQUEST_CAPS.requests} before refusing)`,
    path: `/${encodeURIComponent(buildRequest(Array(REQUEST_CAPS.requests + 1).fill(sha512)).toString('base64'))}`,
  },
  {
    name: `one CertID and ${2 * REQUEST_CAPS.extensions} extensions, each OID of 64 arcs (a valid request, too long for the memo)`,
    path: `/${encodeURIComponent(manyExtensions().toString('base64'))}`,
    valid: true,
  },
];
for (const p of paths) if (p.path.length > 7_900) throw new Error(`bench/get-path: ${p.name} is ${p.path.length} characters, over the header limit`);

/** A request for the leaf with the most extensions the parser reads, each with the longest OID it reads. */
function manyExtensions(): Buffer {
  const ext = sequence(oid(`1.2.${Array.from({ length: 62 }, (_, k) => 1 + k).join('.')}`), octetString(Buffer.alloc(0)));
  const list = sequence(...Array.from({ length: REQUEST_CAPS.extensions }, () => ext));
  const id = encodeCertId(certIdFor(pki.leaf.cert, pki.intermediate.cert));
  return sequence(sequence(sequence(sequence(id, tlv(ctx(0), list))), tlv(ctx(2), list)));
}

/** Segments built from the end: each starts with SEQUENCE and the decoded length of the suffix it starts, so every one is parsed (and fails). */
function lengthDeclaring(n: number): string {
  let path = '';
  for (let k = 0; k < n; k++) {
    const declared = Math.floor(((8 + path.length) * 3) / 4) - 4;
    path = `/${Buffer.from([0x30, 0x82, declared >> 8, declared & 0xff, 0x41, 0x41]).toString('base64')}${path}`;
  }
  return path;
}

const load = fork(new URL('./support/ocsp-load.ts', import.meta.url).pathname, [], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
function run(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve) => {
    load.once('message', (r: LoadResult) => resolve(r));
    load.send(job);
  });
}

const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
console.log(
  `bench/get-path: Node ${process.version}, ${ROUNDS} interleaved rounds of ${ROUND_MS} ms per path and tree, ${CONNECTIONS} connections, load from a forked process\n`,
);
// Warm-up (JIT, connections), not counted.
for (const t of trees)
  for (const p of paths) await run({ kind: 'throughput', origin: t.origin, path: p.path, expected: null, durationMs: 200, connections: CONNECTIONS });
/** Server CPU µs per request, per tree and path. */
const cpu = trees.map(() => paths.map(() => [] as number[]));
for (let r = 0; r < ROUNDS; r++) {
  for (const [ti, t] of trees.entries()) {
    for (const [pi, p] of paths.entries()) {
      const before = process.cpuUsage();
      const expected = 'valid' in p ? rig.staple.toString('base64') : null;
      const res = await run({ kind: 'throughput', origin: t.origin, path: p.path, expected, durationMs: ROUND_MS, connections: CONNECTIONS });
      const used = process.cpuUsage(before);
      if (res.kind !== 'throughput' || res.failed > 0) throw new Error(`bench/get-path: ${t.name}, ${p.name}: failed requests`);
      cpu[ti]![pi]!.push((used.user + used.system) / res.done);
    }
  }
}
const median = (xs: number[]): number => percentile(xs, 50);
let worst = { name: '', ratio: 0, tree: '' };
console.log(`| path | ${trees.map((t) => `${t.name}: CPU per request (µs) | × valid GET`).join(' | ')} |`);
console.log(`|---|${trees.map(() => '---:|---:').join('|')}|`);
for (const [pi, p] of paths.entries()) {
  const cells = trees.map((_, ti) => {
    const us = median(cpu[ti]![pi]!);
    const ratio = us / median(cpu[ti]![0]!);
    if (ti === trees.length - 1 && ratio > worst.ratio) worst = { name: p.name, ratio, tree: trees[ti]!.name };
    return `${fmt(us, 1)} | ${fmt(us / median(cpu[ti]![0]!), 2)}`;
  });
  console.log(`| ${p.name} | ${cells.join(' | ')} |`);
}
console.log(`\nworst path (${worst.tree}): ${worst.name}, ${fmt(worst.ratio, 2)} x a valid GET (target: at most 3)`);

load.kill();
await rig.close();
