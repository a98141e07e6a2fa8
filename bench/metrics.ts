// bench/metrics: what the metrics cost.
//   1. The handshake path: the OCSPRequest listener with and without handshake counting (the only
//      change metrics make there: one integer increment; prom-client is never called on it),
//      interleaved rounds in one run, as a ratio.
//   2. A /metrics scrape at 10,000 and 100,000 certificates: time per scrape, the longest
//      event-loop block, bytes and samples, for the default (counts for all, series of their own
//      for the certificates with a problem and the 100 soonest to lapse) and for
//      `perCertificate: 'all'` (every certificate's series: what every scrape exported before),
//      side by side in one run. The source is synthetic but judged like the engine's (each
//      status built and judged at each read, 1 in 1,000 unstapled, 1 in 500 failing), so that the
//      metrics layer and the status reads are what is measured.
//
//   npm run bench:metrics
//   npm run bench:metrics -- --quick      (a smoke run: CI runs this)
//   npm run bench:metrics -- --scrapes-only --default-only --root DIR
//                                         (the default scrape only, this checkout's StaplerMetrics
//                                          then DIR's, side by side in one run)

import { EventEmitter } from 'node:events';
import type { Server as TlsServer } from 'node:tls';
import type { StaplingEngine } from '../src/engine/engine.ts';
import { silentLogger } from '../src/engine/logger.ts';
import type { CertificateStatus } from '../src/engine/types.ts';
import { statusRow } from '../src/daemon/http/observe-routes.ts';
import { renderStatusPage } from '../src/daemon/http/status-page.ts';
import { fileState } from '../src/daemon/state.ts';
import { judge } from '../src/engine/verdict.ts';
import { StaplerMetrics as OurMetrics } from '../src/metrics/metrics.ts';
import { attach } from '../src/node/attach.ts';
import { Stapler } from '../src/node/stapler.ts';
import { fullchain, makePki } from '../test/support/pki.ts';
import { buildResponse } from '../test/support/responses.ts';
import { ScriptedFetcher, success } from '../test/support/scripted-fetcher.ts';

const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const quick = process.argv.includes('--quick');
const defaultOnly = process.argv.includes('--default-only');
const rootAt = process.argv.indexOf('--root');
const otherRoot = rootAt > 0 ? process.argv[rootAt + 1] : undefined;
const checkouts: [string, typeof OurMetrics][] = [['this checkout', OurMetrics]];
if (otherRoot) {
  const other = (await import(`${otherRoot}/src/metrics/metrics.ts`)) as { StaplerMetrics: typeof OurMetrics };
  checkouts.push([otherRoot, other.StaplerMetrics]);
}
console.log(`bench/metrics: Node ${process.version}${quick ? ' (--quick: a smoke run, not figures)' : ''}\n`);

// ---- 1. the handshake path (--scrapes-only skips it)
const scrapesOnly = process.argv.includes('--scrapes-only');
async function handshakePath(): Promise<void> {
  const pki = await makePki({ ocspUrl: 'http://127.0.0.1:9/ocsp' });
  const der = buildResponse({
    cert: pki.leaf,
    issuer: pki.intermediate,
    thisUpdate: new Date(Date.now() - 60_000),
    nextUpdate: new Date(Date.now() + 86_400_000),
  });
  const stapler = new Stapler({ store: 'memory', logger: silentLogger, fetcher: new ScriptedFetcher(() => success(der)) });
  await stapler.add(fullchain(pki.leaf, pki.intermediate));
  await stapler.ready({ timeout: 10_000 });
  const plain = new EventEmitter();
  const counted = new EventEmitter();
  attach(stapler, plain as unknown as TlsServer, silentLogger);
  const counts = { stapled: 0, unstapled: 0 };
  attach(stapler, counted as unknown as TlsServer, silentLogger, counts);
  const cert = Buffer.from(pki.leaf.cert.der);
  let stapled = 0;
  const callback = (_e: Error | null, r?: Buffer): void => void (r && stapled++);
  const N = quick ? 10_000 : 1_000_000;
  const round = (server: EventEmitter): number => {
    const t = process.hrtime.bigint();
    for (let i = 0; i < N; i++) server.emit('OCSPRequest', cert, null, callback);
    return N / (Number(process.hrtime.bigint() - t) / 1e9);
  };
  round(plain);
  round(counted);
  const without: number[] = [];
  const withCounts: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < (quick ? 2 : 7); r++) {
    const a = round(plain);
    const b = round(counted);
    without.push(a);
    withCounts.push(b);
    ratios.push(b / a);
  }
  console.log('## The OCSPRequest listener (lookup + callback), calls per second\n');
  console.log('| without counting (/s) | with counting (/s) | ratio (median of 7 rounds) | ratio range | stapled |');
  console.log('|---|---|---|---|---|');
  console.log(
    `| ${fmt(median(without))} | ${fmt(median(withCounts))} | ${fmt(median(ratios), 3)} | ${fmt(Math.min(...ratios), 3)}–${fmt(Math.max(...ratios), 3)} | ${stapled === 2 * 8 * N ? 'all' : stapled} |\n`,
  );
  await stapler.close();
}
if (!scrapesOnly) await handshakePath();

// ---- 2. scrapes
/** One status, built like ManagedCertificate.status(): judged, then one object literal. */
function statusOf(i: number, now: number): CertificateStatus {
  const unstapled = i % 1000 === 999;
  const failing = i % 500 === 3;
  const state = unstapled ? ('unstapled' as const) : failing ? ('stapled-refresh-failing' as const) : ('stapled' as const);
  const certStatus = unstapled ? null : ('good' as const);
  const validUntil = unstapled ? null : now + 2 * 86_400_000 + (i % 5_000) * 60_000;
  const nextRefreshAt = now + 86_400_000;
  const lastError = unstapled || failing ? { reason: 'fetch-timeout' as const, message: 'no answer within 5000 ms', at: now } : null;
  const mustStaple = i % 10 === 0;
  const v = judge({ state, certStatus, mustStaple, validUntil, nextRefreshAt, lastError }, now);
  return {
    id: IDS[i]!,
    subject: SUBJECTS[i]!,
    serial: SERIALS[i]!,
    mustStaple,
    responders: RESPONDERS[i % 4]!,
    notAfter: now + 90 * 86_400_000,
    state,
    certStatus,
    thisUpdate: unstapled ? null : now - 3_600_000,
    nextUpdate: validUntil,
    validUntil,
    source: unstapled ? null : 'fetch',
    nextRefreshAt,
    nextRefreshRule: 'half of the validity',
    lastError,
    consecutiveFailures: lastError ? 1 : 0,
    counters: { fetches: 1, fetchFailures: 0, stapled: 0, unstapled: 0 },
    outputs: [],
    verdict: v.verdict,
    summary: v.summary,
    serving: v.serving,
    atRisk: v.atRisk,
    problems: v.problems,
  };
}
// A certificate's strings live as long as it does (the engine holds them): made once.
const MAX = quick ? 1_000 : 100_000;
const IDS = Array.from({ length: MAX }, (_x, i) => i.toString(16).padStart(64, '0'));
const SUBJECTS = Array.from({ length: MAX }, (_x, i) => `CN=host-${i}.example.com`);
const SERIALS = Array.from({ length: MAX }, (_x, i) => (0x1000000 + i).toString(16));
const RESPONDERS = [0, 1, 2, 3].map((n) => [`http://ocsp${n}.example.com/`]);

/** An engine's status reads: each status built and judged when read. */
function source(count: number): StaplingEngine {
  const now = Date.now();
  function* statuses(): IterableIterator<CertificateStatus> {
    for (let i = 0; i < count; i++) yield statusOf(i, now);
  }
  return Object.assign(new EventEmitter(), { statuses, status: () => [...statuses()] }) as unknown as StaplingEngine;
}

console.log('## A /metrics scrape (StaplerMetrics.text())\n');
// The main thread's own CPU time (Node ≥ 23.9): on a machine shared with other work, wall-clock
// blocks are mostly the scheduler's (the process waiting for a core), not the scrape's.
const threadCpu = (process as { threadCpuUsage?: () => { user: number; system: number } }).threadCpuUsage;
const threadCpuMs = (): number => {
  const u = threadCpu?.();
  return u ? (u.user + u.system) / 1000 : 0;
};
const cpuColumns = (times: number[], blocks: number[]): string => (threadCpu ? `${fmt(median(times), 1)} | ${fmt(median(blocks), 1)}` : 'n/a | n/a');
console.log(
  '| checkout | certificates | series | per scrape, median (ms) | longest event-loop block, median (ms) | main thread CPU per scrape (ms) | longest block in main thread CPU (ms) | bytes | samples | rounds |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const count of quick ? [1_000] : [10_000, 100_000]) {
  for (const [checkout, StaplerMetrics] of checkouts)
    for (const perCertificate of defaultOnly ? (['problems'] as const) : (['problems', 'all'] as const)) {
      const metrics = new StaplerMetrics({ version: 'bench', perCertificate, certLabels: () => (s) => `/etc/ssl/private/${s.subject.slice(3)}.pem` }).observe(
        source(count),
      );
      await metrics.text();
      const times: number[] = [];
      const blocks: number[] = [];
      const cpuTimes: number[] = [];
      const cpuBlocks: number[] = [];
      let text = '';
      const rounds = quick ? 2 : perCertificate === 'all' && count > 10_000 ? 3 : 9;
      for (let i = 0; i < rounds; i++) {
        // The longest time the event loop could not run anything else (an OCSP request, say) during the scrape.
        let last = performance.now();
        let longest = 0;
        let lastCpu = threadCpuMs();
        let longestCpu = 0;
        let ticking = true;
        const tick = (): void => {
          const now = performance.now();
          longest = Math.max(longest, now - last);
          last = now;
          const cpu = threadCpuMs();
          longestCpu = Math.max(longestCpu, cpu - lastCpu);
          lastCpu = cpu;
          if (ticking) setImmediate(tick);
        };
        setImmediate(tick);
        const t = performance.now();
        const cpuStart = threadCpuMs();
        text = await metrics.text();
        times.push(performance.now() - t);
        cpuTimes.push(threadCpuMs() - cpuStart);
        ticking = false;
        blocks.push(Math.max(longest, performance.now() - last));
        cpuBlocks.push(Math.max(longestCpu, threadCpuMs() - lastCpu));
      }
      const samples = text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
      const label = perCertificate === 'all' ? "all (`perCertificate: 'all'`, as before)" : 'problems + 100 soonest (default)';
      console.log(
        `| ${checkout} | ${fmt(count)} | ${label} | ${fmt(median(times), 1)} | ${fmt(median(blocks), 1)} | ${cpuColumns(cpuTimes, cpuBlocks)} | ${fmt(Buffer.byteLength(text))} | ${fmt(samples)} | ${rounds} |`,
      );
    }
}

// ---- 3. the status page: one page of cards out of every certificate (the daemon's file states)
console.log('\n## The status page (renderStatusPage: summary, problems first, one page of 50 cards)\n');
console.log('| certificates | render, median (ms) | bytes |');
console.log('|---|---|---|');
for (const count of quick ? [1_000] : [10_000, 100_000]) {
  const now = Date.now();
  const files = Array.from({ length: count }, (_x, i) => {
    const s = statusOf(i, now);
    return fileState(
      { path: `/etc/ssl/private/${SUBJECTS[i]!.slice(3)}.pem`, stapleFile: '', written: null, subject: s.subject, serial: s.serial, error: null },
      s,
      now,
    );
  });
  const times: number[] = [];
  let html = '';
  for (let r = 0; r < (quick ? 2 : 7); r++) {
    const t = performance.now();
    html = renderStatusPage({ title: 'Stapler', facts: [], rows: files, toRow: statusRow, refreshSeconds: 30 }, now);
    times.push(performance.now() - t);
  }
  console.log(`| ${fmt(count)} | ${fmt(median(times), 1)} | ${fmt(Buffer.byteLength(html))} |`);
}
