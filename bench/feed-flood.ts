// bench/feed-flood: a flood of change notifications on the fleet channel (issue 16, item 5).
// A real daemon process (the installed CLI of a checkout, on two tiers: its directory under a
// real redis-server, its OCSP responder listening) staples CERTS certificates; then MESSAGES
// `PUBLISH stapler:changes <managed id>` arrive for one of them while a forked client asks the
// responder at a fixed rate. Measured per checkout, side by side in one run:
//   - the daemon's RSS growth (peak during the flood minus before it, from /proc/<pid>/status);
//   - EMFILE errors and "redis is unreachable" lines in its log;
//   - the responder's latency during the flood (p50, p99, max) and failed requests;
//   - the daemon's own event loop during the window (preloaded monitor: support/loop-delay.mjs):
//     how late its timers fire, and the CPU time it spends between two turns of the loop (what
//     its own work holds the loop for, whatever else the machine runs), and its CPU time in all;
//   - the machine's load average when each run starts and ends.
// Each round runs every checkout with the flood and this checkout without one (the noise floor),
// interleaved, so that a busy minute falls on both.
// Targets (after): RSS growth < 50 MB, no EMFILE, responder p99 < 10 ms.
//
//   npm run bench:feed-flood                              (this checkout; 50,000 messages)
//   npm run bench:feed-flood -- --baseline /work/main     (and another checkout, side by side)
//   npm run bench:feed-flood -- --quick                   (5,000 messages: a CI smoke run)
//   --messages N                                          (0: the responder's latency on this machine without a flood)
//   --rounds N                                            (default 2; --quick 1)
//   --nice N                                              (run the daemon and the client at this priority, e.g. -10:
//                                                          root only; less of the other processes' noise)
// Each checkout needs its dist/ built (npm run build).

import { fork, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, setPriority, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createClient } from 'redis';
import { buildRequest, certIdFor } from '../src/ocsp/request.ts';
import { fullchain, issue, makePki, type Issued } from '../test/support/pki.ts';
import { freePort, RedisServer, redisMissing } from '../test/support/redis-server.ts';
import { TestResponder } from '../test/support/responder.ts';
import { percentile } from './support/client.ts';
import type { LoadJob, LoadResult } from './support/ocsp-load.ts';

const option = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const quick = process.argv.includes('--quick');
const MESSAGES = Number(option('--messages') ?? (quick ? 5_000 : 50_000));
const CERTS = quick ? 3 : 20;
const RATE = 200;
const ROUNDS = Number(option('--rounds') ?? (quick ? 1 : 2));
const NICE = option('--nice') === undefined ? null : Number(option('--nice'));
const here = resolve(new URL('..', import.meta.url).pathname);
// The same daemon without a flood is the reference for this machine's noise (a shared machine's p99 is not the daemon's).
const checkouts = [
  ...(option('--baseline') ? [{ name: `before (${option('--baseline')})`, root: resolve(option('--baseline')!), messages: MESSAGES }] : []),
  { name: 'after (this checkout)', root: here, messages: MESSAGES },
  ...(MESSAGES > 0 ? [{ name: 'this checkout, no flood (noise floor)', root: here, messages: 0 }] : []),
];

const missing = redisMissing();
if (missing) {
  console.log(`bench:feed-flood skipped: ${missing}`);
  process.exit(0);
}
for (const c of checkouts) if (!existsSync(join(c.root, 'dist', 'cli', 'main.js'))) throw new Error(`bench:feed-flood: ${c.root} has no dist/ (npm run build)`);

const work = await mkdtemp(join(tmpdir(), 'stapler-feed-flood-'));
const ca = new TestResponder();
const pki = await makePki({ ocspUrl: await ca.listen() });
const leaves: Issued[] = [];
for (let i = 0; i < CERTS; i++) leaves.push(await issue({ name: `flood-${i}.test`, issuer: pki.intermediate, ocspUrls: [ca.url] }));
ca.serve(pki, leaves);
const target = leaves[0]!;
const id = createHash('sha256').update(target.der).digest('hex');
const path = `/${encodeURIComponent(buildRequest(certIdFor(target.cert, pki.intermediate.cert)).toString('base64'))}`;
const load = fork(new URL('./support/ocsp-load.ts', import.meta.url).pathname, [], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
if (NICE !== null) setPriority(load.pid!, NICE);
const runLoad = (job: LoadJob): Promise<LoadResult> =>
  new Promise((done) => {
    load.once('message', (r: LoadResult) => done(r));
    load.send(job);
  });

const rssKb = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
/** A process's CPU time (user + system) in ms, from /proc/<pid>/stat (clock ticks of 10 ms). */
const cpuMs = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
};

const LOOP_DELAY = new URL('./support/loop-delay.mjs', import.meta.url).href;

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(killer);
}

interface LoopFile {
  p99: number;
  max: number;
  cpuPerTick: { p50: number; p99: number; max: number; ticks: number };
  thread: boolean;
}

interface Row {
  loadBefore: number;
  loadAfter: number;
  loop: LoopFile;
  cpuMs: number;
  publishS: number;
  rssBeforeMb: number;
  rssGrowthMb: number;
  emfile: number;
  unreachable: number;
  p50: number;
  p99: number;
  max: number;
  failed: number;
  floodLines: number;
}

async function measure(root: string, n: number, messages: number): Promise<Row> {
  const redis = await RedisServer.start();
  const dir = join(work, `run-${n}`);
  await mkdir(join(dir, 'certs'), { recursive: true });
  for (const [i, l] of leaves.entries()) await writeFile(join(dir, 'certs', `site-${i}.pem`), fullchain(l, pki.intermediate));
  const port = await freePort();
  await writeFile(
    join(dir, 'stapler.yaml'),
    `certificates: [${dir}/certs/*.pem]\nstateFile: ${dir}/state.json\nstore: ${redis.url}\nlisten: 127.0.0.1:${port}\nlogFormat: json\n`,
  );
  const delayFile = join(dir, 'loop-delay.json');
  const daemonArgs = [...(process.env.BENCH_DAEMON_NODE_ARGS?.split(' ').filter(Boolean) ?? []), '--import', LOOP_DELAY, join(root, 'bin', 'stapler.js')];
  const child = spawn(process.execPath, [...daemonArgs, 'daemon', '--config', join(dir, 'stapler.yaml')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, STAPLER_BENCH_LOOP_DELAY_FILE: delayFile },
  });
  if (NICE !== null) setPriority(child.pid!, NICE);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const publisher = createClient({ url: redis.url });
  try {
    const deadline = Date.now() + 60_000;
    while (!leaves.every((_, i) => existsSync(join(dir, 'certs', `site-${i}.pem.ocsp`)))) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the daemon did not staple within 60 s: ${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const origin = `http://127.0.0.1:${port}`;
    // Only an answer with the staple counts (it is not refreshed during the run: responses last a day).
    const expected = (await readFile(join(dir, 'certs', 'site-0.pem.ocsp'))).toString('base64');
    await runLoad({ kind: 'latency', origin, path, expected, perSecond: RATE, count: 100 }); // warm-up
    const before = rssKb(child.pid!);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssKb(child.pid!))), 20);
    await publisher.connect();
    const loadBefore = loadavg()[0]!;
    child.kill('SIGUSR2'); // the daemon's event-loop figures are counted from here
    const cpuBefore = cpuMs(child.pid!);
    // The responder is asked throughout the flood and the seconds after it.
    const asking = runLoad({ kind: 'latency', origin, path, expected, perSecond: RATE, count: RATE * (quick ? 4 : 15) });
    const publishing = performance.now();
    for (let i = 0; i < messages; i += 1_000)
      await Promise.all(Array.from({ length: Math.min(1_000, messages - i) }, () => publisher.publish('stapler:changes', id)));
    const publishS = (performance.now() - publishing) / 1000;
    const answered = await asking;
    const cpuWindow = cpuMs(child.pid!) - cpuBefore;
    const loadAfter = loadavg()[0]!;
    clearInterval(sampler);
    peak = Math.max(peak, rssKb(child.pid!));
    if (answered.kind !== 'latency') throw new Error('unexpected load result');
    const xs = answered.latenciesMs;
    await stop(child);
    const loop = JSON.parse(readFileSync(delayFile, 'utf8')) as LoopFile;
    return {
      loadBefore,
      loadAfter,
      loop,
      cpuMs: cpuWindow,
      publishS,
      rssBeforeMb: before / 1024,
      rssGrowthMb: (peak - before) / 1024,
      emfile: (out.match(/EMFILE/g) ?? []).length,
      unreachable: (out.match(/redis is unreachable/g) ?? []).length,
      p50: percentile(xs, 50),
      p99: percentile(xs, 99),
      max: Math.max(...xs),
      failed: answered.failed,
      floodLines: (out.match(/flood of change notifications/g) ?? []).length,
    };
  } finally {
    await publisher.close().catch(() => undefined);
    await stop(child);
    await redis.stop();
  }
}

try {
  console.log(
    `bench:feed-flood: ${MESSAGES.toLocaleString('en-US')} PUBLISHes of one managed id to a daemon with ${CERTS} certificates (Redis over its directory), responder asked at ${RATE}/s meanwhile; ${ROUNDS} round(s), interleaved; Node ${process.version}${NICE === null ? '' : `; daemon and client at nice ${NICE}`}\n`,
  );
  const rows: Array<[string, number, Row]> = [];
  for (let round = 1; round <= ROUNDS; round++)
    for (const [n, c] of checkouts.entries()) rows.push([c.name, round, await measure(c.root, round * checkouts.length + n, c.messages)]);
  const f = (x: number, d = 1): string => x.toFixed(d);
  console.log(
    '| checkout | round | load avg (1 min) start → end | RSS growth, peak (MB) | EMFILE | "redis is unreachable" | failed requests | responder p50 / p99 / max (ms) | daemon loop lateness p99 / max (ms) | daemon CPU per loop turn p99 / max (ms) | daemon CPU in the window (ms) | publishing took (s) | flood log lines |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const [name, round, r] of rows)
    console.log(
      `| ${name} | ${round} | ${f(r.loadBefore, 2)} → ${f(r.loadAfter, 2)} | ${f(r.rssGrowthMb)} | ${r.emfile} | ${r.unreachable} | ${r.failed} | ${f(r.p50, 2)} / ${f(r.p99, 2)} / ${f(r.max, 1)} | ${f(r.loop.p99)} / ${f(r.loop.max)} | ${f(r.loop.cpuPerTick.p99, 2)} / ${f(r.loop.cpuPerTick.max, 2)} | ${f(r.cpuMs, 0)} | ${f(r.publishS, 2)} | ${r.floodLines} |`,
    );
  console.log(
    `\nCPU per loop turn: ${rows[0]?.[2].loop.thread ? "the daemon's main thread" : "the daemon process's (all its threads: an upper bound; Node >= 23.9 measures the main thread)"}; lateness: how late a 5 ms timer fired, beyond its period.`,
  );
} finally {
  load.kill();
  await ca.close();
  await rm(work, { recursive: true, force: true });
}
