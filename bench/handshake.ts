// bench/handshake: what stapling costs a TLS server.
//   1. Handshakes per second of one server with and without Stapler (TLS 1.3, ECDSA P-256 and
//      RSA-2048), interleaved rounds in one run. Target ratio >= 0.98. Also the server's CPU time
//      per handshake, which stays meaningful when the client, not the server, is the bottleneck.
//   2. First-handshake latency and p50/p99 handshake latency while the responder hangs, against a
//      healthy responder. Target difference <= 1 ms.
// The client runs in a child process (its own core); every connection asks for OCSP.
//
//   npm run bench:handshake            (~2 minutes)
//   npm run bench:handshake -- --quick

import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:tls';
import { silentLogger } from '../src/engine/logger.ts';
import { Stapler } from '../src/node/stapler.ts';
import { fullchain, makePki, type KeyKind, type TestPki } from '../test/support/pki.ts';
import { TestResponder } from '../test/support/responder.ts';
import { HandshakeClient, percentile } from './support/client.ts';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 2 : 6;
const ROUND_MS = quick ? 1_000 : 3_000;
const CONCURRENCY = 16;
const LATENCY_N = quick ? 100 : 1_000;
const LATENCY_REPEATS = quick ? 1 : 3;

const responder = new TestResponder();
const url = await responder.listen();
const client = new HandshakeClient();
const closers: (() => Promise<unknown>)[] = [];

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

function tlsServer(pki: TestPki): Server {
  return createServer({ cert: fullchain(pki.leaf, pki.intermediate), key: pki.leaf.keyPem }, (s) => s.destroy());
}

async function stapledPort(pki: TestPki, waitReady: boolean): Promise<{ port: number; stapler: Stapler }> {
  const stapler = new Stapler({ store: 'memory', logger: silentLogger, timeoutMs: 60_000, deadlineMs: 120_000 });
  closers.push(() => stapler.close());
  await stapler.add(fullchain(pki.leaf, pki.intermediate));
  const server = tlsServer(pki);
  stapler.attach(server);
  if (waitReady) await stapler.ready({ timeout: 10_000 });
  return { port: await listen(server), stapler };
}

const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const median = (xs: number[]): number => percentile(xs, 50);

console.log(`bench/handshake: Node ${process.version}, ${ROUNDS} interleaved rounds of ${ROUND_MS} ms, ${CONCURRENCY} connections in flight\n`);
console.log('Ratios: with ÷ without for throughput, and without ÷ with for CPU per handshake (above 1: Stapler costs nothing measurable).\n');
console.log('## Handshakes per second, TLS 1.3\n');
console.log(
  '| leaf key | without Stapler (/s) | with Stapler (/s) | ratio (median of rounds) | ratio range | server CPU per handshake, without → with (µs) | CPU ratio | stapled |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');

for (const kind of ['ec-p256', 'rsa-2048'] as KeyKind[]) {
  responder.behaviour = 'good';
  const pki = await makePki({ ocspUrl: url, caKind: 'ec-p256', leafKind: kind });
  responder.serve(pki);
  const plain = await listen(tlsServer(pki));
  const { port: stapled } = await stapledPort(pki, true);
  await client.rate(plain, 500, CONCURRENCY); // warm-up
  await client.rate(stapled, 500, CONCURRENCY);
  const without: number[] = [];
  const withS: number[] = [];
  const ratios: number[] = [];
  const cpu: Record<string, number[]> = { plain: [], stapled: [] };
  const cpuRatios: number[] = [];
  let stapledCount = 0;
  let total = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? ['plain', 'stapled'] : ['stapled', 'plain'];
    const got: Record<string, number> = {};
    const cpuPer: Record<string, number> = {};
    for (const which of order) {
      const before = process.cpuUsage();
      const res = await client.rate(which === 'plain' ? plain : stapled, ROUND_MS, CONCURRENCY);
      const used = process.cpuUsage(before);
      cpuPer[which] = (used.user + used.system) / res.handshakes;
      cpu[which]!.push(cpuPer[which]);
      got[which] = res.perSecond;
      if (which === 'stapled') {
        stapledCount += res.stapled;
        total += res.handshakes;
      }
    }
    without.push(got.plain!);
    withS.push(got.stapled!);
    ratios.push(got.stapled! / got.plain!);
    cpuRatios.push(cpuPer.plain! / cpuPer.stapled!);
  }
  const label = kind === 'ec-p256' ? 'ECDSA P-256' : 'RSA-2048';
  console.log(
    `| ${label} | ${fmt(median(without))} | ${fmt(median(withS))} | ${fmt(median(ratios), 3)} | ${fmt(Math.min(...ratios), 3)}–${fmt(Math.max(...ratios), 3)} | ${fmt(median(cpu.plain!))} → ${fmt(median(cpu.stapled!))} | ${fmt(median(cpuRatios), 3)} | ${fmt((stapledCount / total) * 100, 1)} % |`,
  );
}

console.log('\n## Handshake latency: responder hanging vs healthy (ECDSA P-256, TLS 1.3, one connection at a time)\n');
console.log('| responder | first handshake (ms) | p50 (ms) | p99 (ms) | stapled |');
console.log('|---|---:|---:|---:|---:|');
const pki = await makePki({ ocspUrl: url });
responder.serve(pki);
const results: Record<string, { first: number[]; p50: number[]; p99: number[]; stapled: number; n: number }> = {
  healthy: { first: [], p50: [], p99: [], stapled: 0, n: 0 },
  hanging: { first: [], p50: [], p99: [], stapled: 0, n: 0 },
};
for (let r = 0; r < LATENCY_REPEATS; r++) {
  for (const mode of r % 2 === 0 ? ['healthy', 'hanging'] : ['hanging', 'healthy']) {
    responder.behaviour = mode === 'healthy' ? 'good' : 'hang';
    // A fresh server and Stapler each time. Healthy: stapled (ready). Hanging: its fetch has
    // reached the responder and hangs there for the whole measurement.
    const requests = responder.requestCount;
    const { port } = await stapledPort(pki, mode === 'healthy');
    while (mode === 'hanging' && responder.requestCount === requests) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 50));
    const first = await client.latency(port, 1);
    const rest = await client.latency(port, LATENCY_N);
    const res = results[mode]!;
    res.first.push(first.samples[0]!);
    res.p50.push(percentile(rest.samples, 50));
    res.p99.push(percentile(rest.samples, 99));
    res.stapled += rest.stapled;
    res.n += rest.samples.length;
  }
}
for (const [mode, r] of Object.entries(results)) {
  console.log(`| ${mode} | ${fmt(median(r.first), 2)} | ${fmt(median(r.p50), 2)} | ${fmt(median(r.p99), 2)} | ${fmt((r.stapled / r.n) * 100, 0)} % |`);
}
const h = results.healthy!;
const g = results.hanging!;
console.log(
  `\ndifference (hanging − healthy): first ${fmt(median(g.first) - median(h.first), 2)} ms, p50 ${fmt(median(g.p50) - median(h.p50), 2)} ms, p99 ${fmt(median(g.p99) - median(h.p99), 2)} ms`,
);

responder.behaviour = 'good';
client.close();
for (const close of closers.reverse()) await close();
await responder.close();
