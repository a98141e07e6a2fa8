// bench/scale: the daemon as its own process (`stapler daemon` through the CLI) with N certificate
// files, against a fast pre-signed responder in another process (so that Stapler is the
// bottleneck), then a warm restart with the CA down and every staple in the store.
//   cold start: time until every staple file is written, certificates/s, RSS per certificate,
//               and the daemon's responder latency (p99 / max) probed every 50 ms throughout:
//               a probe that waits is an event loop that is blocked;
//   warm start: staple files removed, CA down (a listener that counts connections and closes
//               them): time until the responder answers for the last file's CertID, until every
//               staple file is back, and how many requests the CA got (must be 0).
//   views:      then, still warm, /healthz, /status, /status.json and /metrics asked 3 times each:
//               the time and size of each answer, and the responder's slowest answer meanwhile
//               (probed every 10 ms on its own connection: how long the view held the event loop).
//
//   npm run bench:scale                          (100,000 certificates: slow on a shared machine)
//   npm run bench:scale -- --count 5000          (what CI runs)
//   npm run bench:scale -- --count 5000 --root /work/main   (the same against another checkout)
//   --rate N: responderRatePerSecond for the daemon (default 0: no limit, Stapler's own ceiling).
//   --same-config: give the --root checkout this one's configuration (it knows the same settings).
//   --limit-s N: give up on each start after N seconds (default 1800); progress goes to stderr every 30 s.
//   STAPLER_BENCH_PROFILE=dir: CPU profiles of the daemon; STAPLER_BENCH_HEAP=dir: its heap once warm, before the views, by kind.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildRequest, certIdFor } from '../src/ocsp/request.ts';
import { Certificate } from '../src/ocsp/certificate.ts';
import { percentile } from './support/client.ts';
import { heapTable, readHeapSnapshot, summariseHeap } from './support/heap-summary.ts';
import { makeMassPki, pemOf } from './support/mass-pki.ts';
import { startPresignedResponder, writeResponses } from './support/presigned-responder.ts';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const COUNT = Number(arg('--count') ?? 100_000);
const ROOT = resolve(arg('--root') ?? new URL('..', import.meta.url).pathname);
const RATE = Number(arg('--rate') ?? 0);
// --same-config: the other checkout knows this one's settings (a copy of its base): the same configuration.
const OURS = ROOT === resolve(new URL('..', import.meta.url).pathname) || process.argv.includes('--same-config');
const LIMIT_MS = Number(arg('--limit-s') ?? 1800) * 1000;
const HEAP_DIR = process.env.STAPLER_BENCH_HEAP;

const dir = await mkdtemp(join(tmpdir(), 'stapler-scale-'));
const certDir = join(dir, 'certs');
await mkdir(certDir);
const caPort = 20_000 + Math.floor(Math.random() * 20_000);
const listenPort = caPort + 1;
const t0 = performance.now();
const pki = await makeMassPki(`http://127.0.0.1:${caPort}/`);
const thisUpdate = new Date(Date.now() - 3_600_000);
const nextUpdate = new Date(Date.now() + 7 * 86_400_000);
const responses: Buffer[] = [];
const names: string[] = [];
for (let start = 0; start < COUNT; start += 1000) {
  const writes: Promise<void>[] = [];
  for (let i = start; i < Math.min(COUNT, start + 1000); i++) {
    const name = `${pki.hostName(i)}.pem`;
    names.push(name);
    writes.push(writeFile(join(certDir, name), pemOf(pki.leafDer(i)) + pki.intermediate.pem));
    responses.push(pki.responseDer(i, thisUpdate, nextUpdate));
  }
  await Promise.all(writes);
}
await writeResponses(join(dir, 'responses.bin'), responses);
responses.length = 0;
console.error(`bench/scale: generated ${COUNT} certificates and responses in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

// A CertID names the issuer and the serial only: a leaf signed again names the same one.
const pathFor = (i: number): string =>
  `/${encodeURIComponent(buildRequest(certIdFor(new Certificate(pki.leafDer(i), `leaf ${i}`), pki.intermediate.cert)).toString('base64'))}`;
const lastPath = pathFor(COUNT - 1);
const firstPath = pathFor(0);

const config = join(dir, 'stapler.yaml');
const configLines = [
  `certificates: ["${certDir}/*.pem"]`,
  `stateFile: ${join(dir, 'state', 'state.json')}`,
  `listen: 127.0.0.1:${listenPort}`,
  'logLevel: warn',
  'logFormat: json',
  'rescanMs: 3600000',
  ...(OURS ? [`responderRatePerSecond: ${RATE}`, 'concurrency: 64', 'responderConcurrency: 32'] : ['concurrency: 32']),
];
await writeFile(config, `${configLines.join('\n')}\n`);

function startDaemon(): ChildProcess {
  // STAPLER_BENCH_PROFILE=dir: the daemon writes a CPU profile there (node --cpu-prof).
  const profile = process.env.STAPLER_BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.STAPLER_BENCH_PROFILE] : [];
  // STAPLER_BENCH_HEAP=dir: a heap snapshot there once the warm start is done (SIGUSR2), summed by kind: before
  // the views, whose shared snapshot of every file's state is held for up to 10 s after a request.
  const heap = HEAP_DIR ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${HEAP_DIR}`] : [];
  const child = spawn(process.execPath, [...profile, ...heap, '--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'daemon', '--config', config], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let errors = '';
  child.stderr.on('data', (c: Buffer) => (errors = (errors + c.toString()).slice(-4000)));
  child.on('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGTERM') console.error(`daemon exited ${code ?? signal}: ${errors}`);
  });
  return child;
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });
/** GET one OCSP request from the daemon's responder: the status and how long it took (ms), or null if it did not answer. */
function ask(path: string): Promise<{ status: number; ms: number } | null> {
  const started = performance.now();
  return new Promise((done) => {
    const req = request({ host: '127.0.0.1', port: listenPort, path, agent, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => done({ status: res.statusCode ?? 0, ms: performance.now() - started }));
    });
    req.on('error', () => done(null));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** Ask the responder for the first CertID every `everyMs` until stopped: each answer's time (ms). */
function probe(everyMs: number): { times: number[]; stop(): Promise<number[]> } {
  const times: number[] = [];
  let probing = true;
  const loop = (async () => {
    while (probing) {
      const r = await ask(firstPath);
      if (r) times.push(r.ms);
      await new Promise((w) => setTimeout(w, everyMs));
    }
  })();
  return {
    times,
    stop: async () => {
      probing = false;
      await loop;
      return times;
    },
  };
}

/** GET a view on its own connection: status, ms and bytes. */
function view(path: string): Promise<{ status: number; ms: number; bytes: number }> {
  const started = performance.now();
  return new Promise((done, fail) => {
    const req = request({ host: '127.0.0.1', port: listenPort, path, agent: false, timeout: 120_000 }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => done({ status: res.statusCode ?? 0, ms: performance.now() - started, bytes }));
    });
    req.on('error', fail);
    req.on('timeout', () => req.destroy(new Error(`${path}: no answer within 120 s`)));
    req.end();
  });
}

interface ViewFigures {
  path: string;
  status: number;
  firstMs: number;
  medianMs: number;
  bytes: number;
  probeMaxMs: number;
}

/** Each view 3 times, one after the other, with the responder probed meanwhile. */
async function views(): Promise<ViewFigures[]> {
  const out: ViewFigures[] = [];
  for (const path of ['/healthz', '/status', '/status.json', '/metrics']) {
    const prober = probe(10);
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await view(path));
    const probes = await prober.stop();
    const ms = answers.map((a) => a.ms).sort((a, b) => a - b);
    out.push({ path, status: answers[0]!.status, firstMs: answers[0]!.ms, medianMs: ms[1]!, bytes: answers[0]!.bytes, probeMaxMs: Math.max(0, ...probes) });
  }
  return out;
}

async function stapleFiles(): Promise<number> {
  return (await readdir(certDir)).filter((n) => n.endsWith('.ocsp')).length;
}

async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
}

interface Run {
  allFilesMs: number | null;
  lastServedMs: number | null;
  probeP99: number;
  probeMax: number;
  rssPeak: number;
  rssEnd: number;
  /** Staple files present when the watch ended. */
  files: number;
}

/** Start the daemon and watch it until every staple file is there (and the last CertID answered). */
async function watch(daemon: ChildProcess, label: string): Promise<Run> {
  const start = performance.now();
  const prober = probe(50);
  const probes = prober.times;
  let lastServedMs: number | null = null;
  let allFilesMs: number | null = null;
  let rssPeak = 0;
  let reported = start;
  while (performance.now() - start < LIMIT_MS && (allFilesMs === null || lastServedMs === null)) {
    await new Promise((w) => setTimeout(w, 250));
    rssPeak = Math.max(rssPeak, await rssOf(daemon.pid!));
    if (lastServedMs === null && (await ask(lastPath))?.status === 200) lastServedMs = performance.now() - start;
    const files = allFilesMs === null ? await stapleFiles() : COUNT;
    if (allFilesMs === null && files === COUNT) allFilesMs = performance.now() - start;
    // How far it got, every 30 s: what a run stopped before the end still tells.
    if (performance.now() - reported >= 30_000) {
      reported = performance.now();
      const p99 = probes.length ? percentile(probes.slice(-600), 99).toFixed(0) : '-';
      console.error(
        `bench/scale: ${label} +${((reported - start) / 1000).toFixed(0)} s: ${files} staple files, last CertID ${lastServedMs === null ? 'not yet answered' : 'answered'}, RSS ${(rssPeak / 1048576).toFixed(0)} MB peak, probe p99 ${p99} ms (last 30 s)`,
      );
    }
  }
  await prober.stop();
  const end = { rssEnd: await rssOf(daemon.pid!), files: await stapleFiles() };
  return { allFilesMs, lastServedMs, probeP99: percentile(probes, 99), probeMax: Math.max(0, ...probes), rssPeak, ...end };
}

/** Have the daemon write a heap snapshot into `into` (SIGUSR2); its path once written, or null if none came within --limit-s. */
async function heapSnapshot(daemon: ChildProcess, into: string): Promise<string | null> {
  const before = new Set(await readdir(into));
  daemon.kill('SIGUSR2');
  for (const start = performance.now(); performance.now() - start < LIMIT_MS;) {
    await new Promise((w) => setTimeout(w, 1000));
    const name = (await readdir(into)).find((n) => n.endsWith('.heapsnapshot') && !before.has(n));
    // Written in one go by the daemon's main thread: complete once it answers again.
    if (name && (await ask(firstPath))) return join(into, name);
  }
  return null;
}

async function stop(daemon: ChildProcess): Promise<void> {
  const exited = new Promise((done) => daemon.once('exit', done));
  daemon.kill('SIGTERM');
  await exited;
}

// Cold start: no store, the fast CA up.
const ca = await startPresignedResponder(join(dir, 'responses.bin'), caPort);
let daemon = startDaemon();
const cold = await watch(daemon, 'cold start');
const caRequests = await ca.requests();
await stop(daemon);
await ca.stop();

// Warm start: the CA down (connections counted and closed), the staple files gone, the store full.
let caConnections = 0;
const down: Server = createServer((s) => {
  caConnections++;
  s.destroy();
});
await new Promise<void>((done) => down.listen(caPort, '127.0.0.1', done));
for (const n of await readdir(certDir)) if (n.endsWith('.ocsp')) await unlink(join(certDir, n));
daemon = startDaemon();
const warm = await watch(daemon, 'warm start');
const heapFile = HEAP_DIR ? await heapSnapshot(daemon, HEAP_DIR) : null;
const viewFigures = await views();
await stop(daemon);
await new Promise((done) => down.close(done));
agent.destroy();

const s = (ms: number | null): string => (ms === null ? `not within ${LIMIT_MS / 1000} s` : `${(ms / 1000).toFixed(1)} s`);
const perCert = (bytes: number): string => `${(bytes / COUNT / 1024).toFixed(1)} KiB`;
console.log(`bench/scale: ${COUNT} certificate files, daemon from ${ROOT}, Node ${process.version}${OURS ? `, responderRatePerSecond ${RATE}` : ''}\n`);
console.log('| measure | value |');
console.log('|---|---:|');
console.log(
  `| cold start: every staple file written | ${s(cold.allFilesMs)}${cold.allFilesMs ? ` (${((COUNT / cold.allFilesMs) * 1000).toFixed(0)} certificates/s)` : ` (${cold.files} present)`} |`,
);
console.log(`| cold start: requests to the CA | ${caRequests} |`);
console.log(`| cold start: responder probe every 50 ms, p99 / max | ${cold.probeP99.toFixed(1)} ms / ${cold.probeMax.toFixed(1)} ms |`);
console.log(`| cold start: RSS per certificate, peak / at the end | ${perCert(cold.rssPeak)} / ${perCert(cold.rssEnd)} |`);
console.log(`| warm start (CA down): responder answers 200 for the last file's CertID | ${s(warm.lastServedMs)} |`);
console.log(`| warm start: every staple file present | ${s(warm.allFilesMs)}${warm.allFilesMs ? '' : ` (${warm.files} present)`} |`);
console.log(`| warm start: connections to the CA | ${caConnections} |`);
console.log(`| warm start: responder probe, p99 / max | ${warm.probeP99.toFixed(1)} ms / ${warm.probeMax.toFixed(1)} ms |`);
console.log(`| warm start: RSS per certificate, peak / at the end | ${perCert(warm.rssPeak)} / ${perCert(warm.rssEnd)} |`);
console.log('\n| view (warm, 3 times each) | status | first / median time | bytes | bytes per certificate | responder probe max meanwhile |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const v of viewFigures)
  console.log(
    `| ${v.path} | ${v.status} | ${v.firstMs.toFixed(0)} / ${v.medianMs.toFixed(0)} ms | ${v.bytes.toLocaleString('en-US')} | ${(v.bytes / COUNT).toFixed(0)} | ${v.probeMaxMs.toFixed(1)} ms |`,
  );

if (HEAP_DIR && !heapFile) console.log(`\nNo heap snapshot came into ${HEAP_DIR} within ${LIMIT_MS / 1000} s.`);
if (heapFile) {
  console.log(`\nThe daemon's heap once warm, before the views (${heapFile}), by kind:\n`);
  console.log(heapTable(summariseHeap(await readHeapSnapshot(heapFile)), COUNT));
}

await rm(dir, { recursive: true, force: true });
