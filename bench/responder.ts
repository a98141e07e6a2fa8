// bench/responder: the daemon's OCSP responder, answering from memory.
//   (a) Requests per second of the responder route (real listener, real engine, a GET with the
//       base64 request, as nginx sends) side by side with a bare node:http server that returns the
//       same staple from a fixed buffer (the ceiling), interleaved rounds in one run. Target >= 50 %.
//   (b) Latency at a fixed 1,000 requests/s: p50/p99/max. Target p99 <= 1 ms.
// The load generator (undici Pool) runs in a forked process, so it does not share the servers'
// event loop.
//
//   npm run bench:responder
//   npm run bench:responder -- --quick      (a smoke run: CI runs this)

import { fork } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpListener } from '../src/daemon/http/listener.ts';
import { silentLogger } from '../src/engine/logger.ts';
import { percentile } from './support/client.ts';
import type { LoadJob, LoadResult } from './support/ocsp-load.ts';
import { responderRig } from './support/responder-rig.ts';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 2 : 6;
const ROUND_MS = quick ? 500 : 3_000;
const CONNECTIONS = 16;
const LATENCY_N = quick ? 200 : 10_000;
const RATE = 1_000;

const rig = await responderRig();
const { staple, path } = rig;
const { route, port: responderPort } = await rig.responder();
// The daemon's listener (its bounds and timeouts) with a route that returns the same fixed buffer: what the listener itself costs.
const fixedListener = new HttpListener(
  [
    {
      name: 'fixed',
      paths: null,
      methods: ['GET'],
      handle: (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/ocsp-response', 'Content-Length': staple.length });
        res.end(staple);
      },
    },
  ],
  silentLogger,
);
const fixedPort = (await fixedListener.listen({ host: '127.0.0.1', port: 0 })).port;
const bare: Server = createServer((_req, res) => {
  res.writeHead(200, { 'Content-Type': 'application/ocsp-response', 'Content-Length': staple.length });
  res.end(staple);
});
await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
const barePort = (bare.address() as AddressInfo).port;
// Only these bytes count as a correct answer (base64: the job crosses the IPC channel as JSON).
const expected = staple.toString('base64');

const load = fork(new URL('./support/ocsp-load.ts', import.meta.url).pathname, [], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
function run(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve) => {
    load.once('message', (r: LoadResult) => resolve(r));
    load.send(job);
  });
}

const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const median = (xs: number[]): number => percentile(xs, 50);
const pct = (xs: number[]): string => `${fmt(median(xs) * 100)} % (${fmt(Math.min(...xs) * 100)}–${fmt(Math.max(...xs) * 100)})`;
const servers = [
  { name: 'bare node:http, fixed buffer (ceiling)', origin: `http://127.0.0.1:${barePort}` },
  { name: "the daemon's listener, fixed buffer", origin: `http://127.0.0.1:${fixedPort}` },
  { name: 'stapler responder (GET, parse + lookup)', origin: `http://127.0.0.1:${responderPort}` },
];

console.log(
  `bench/responder: Node ${process.version}, ${ROUNDS} interleaved rounds of ${ROUND_MS} ms, ${CONNECTIONS} connections, load from a forked process\n`,
);
console.log('## (a) Requests per second\n');
// A warm-up round of each (JIT, connections), not counted.
for (const s of servers) await run({ kind: 'throughput', origin: s.origin, path, expected, durationMs: Math.min(ROUND_MS, 1_000), connections: CONNECTIONS });
const rates = servers.map(() => [] as number[]);
// The servers' process CPU time per request: steadier than rates on a shared machine (the load
// generator's share of the cores does not enter it).
const cpu = servers.map(() => [] as number[]);
const ratios: number[] = [];
const listenerRatios: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const round: number[] = [];
  for (const [i, s] of servers.entries()) {
    const cpuBefore = process.cpuUsage();
    const res = await run({ kind: 'throughput', origin: s.origin, path, expected, durationMs: ROUND_MS, connections: CONNECTIONS });
    const used = process.cpuUsage(cpuBefore);
    if (res.kind !== 'throughput' || res.failed > 0)
      throw new Error(`bench/responder: ${s.name}: ${res.kind === 'throughput' ? res.failed : '?'} failed requests`);
    round.push((res.done / res.ms) * 1000);
    rates[i]!.push(round[i]!);
    if (res.kind === 'throughput') cpu[i]!.push((used.user + used.system) / res.done);
  }
  ratios.push(round[2]! / round[0]!);
  listenerRatios.push(round[1]! / round[0]!);
}
console.log('| server | per second (median) | range over rounds | of ceiling (median of rounds) | server CPU per request (µs, median) |');
console.log('|---|---:|---:|---:|---:|');
for (const [i, s] of servers.entries()) {
  const xs = rates[i]!;
  console.log(
    `| ${s.name} | ${fmt(median(xs))} | ${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))} | ${i === 0 ? '100 %' : pct(i === 1 ? listenerRatios : ratios)} | ${fmt(median(cpu[i]!), 1)} |`,
  );
}

console.log(`\n## (b) Latency at ${fmt(RATE)} requests/s (${fmt(LATENCY_N)} requests each)\n`);
console.log('| server | p50 (ms) | p99 (ms) | max (ms) |');
console.log('|---|---:|---:|---:|');
// Interleaved in chunks, like the throughput rounds: a burst of load from elsewhere on the
// machine then falls on every server alike.
const CHUNKS = 10;
const latencies = servers.map(() => [] as number[]);
for (let c = 0; c < CHUNKS; c++) {
  for (const [i, s] of servers.entries()) {
    const res = await run({ kind: 'latency', origin: s.origin, path, expected, perSecond: RATE, count: Math.ceil(LATENCY_N / CHUNKS) });
    if (res.kind !== 'latency' || res.failed > 0) throw new Error(`bench/responder: ${s.name}: failed requests at a fixed rate`);
    latencies[i]!.push(...res.latenciesMs);
  }
}
for (const [i, s] of servers.entries()) {
  const xs = latencies[i]!;
  console.log(`| ${s.name} | ${fmt(percentile(xs, 50), 3)} | ${fmt(percentile(xs, 99), 3)} | ${fmt(Math.max(...xs), 3)} |`);
}
console.log(`\nresponder counts: ${JSON.stringify(route.counts)}`);

load.kill();
await fixedListener.close();
await new Promise<void>((resolve) => bare.close(() => resolve()));
await rig.close();
