// bench/metrics: what the metrics cost.
//   1. The handshake path: the OCSPRequest listener with and without handshake counting (the only
//      change metrics make there: one integer increment; prom-client is never called on it),
//      interleaved rounds in one run, as a ratio.
//   2. A /metrics scrape at 1,000 and 10,000 certificates: time per scrape and bytes. The source
//      is synthetic (every certificate stapled, with every per-certificate series present: the
//      worst case for the output), so that the metrics layer is what is measured.
//
//   npm run bench:metrics
//   npm run bench:metrics -- --quick      (a smoke run: CI runs this)

import { EventEmitter } from 'node:events';
import type { Server as TlsServer } from 'node:tls';
import type { StaplingEngine } from '../src/engine/engine.ts';
import { silentLogger } from '../src/engine/logger.ts';
import type { CertificateStatus } from '../src/engine/types.ts';
import { StaplerMetrics } from '../src/metrics/metrics.ts';
import { attach } from '../src/node/attach.ts';
import { Stapler } from '../src/node/stapler.ts';
import { fullchain, makePki } from '../test/support/pki.ts';
import { buildResponse } from '../test/support/responses.ts';
import { ScriptedFetcher, success } from '../test/support/scripted-fetcher.ts';

const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const quick = process.argv.includes('--quick');
console.log(`bench/metrics: Node ${process.version}${quick ? ' (--quick: a smoke run, not figures)' : ''}\n`);

// ---- 1. the handshake path
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

// ---- 2. scrapes
function statuses(count: number): CertificateStatus[] {
  const now = Date.now();
  return Array.from({ length: count }, (_x, i) => ({
    id: i.toString(16).padStart(64, '0'),
    subject: `CN=host-${i}.example.com`,
    serial: (0x1000000 + i).toString(16),
    mustStaple: i % 10 === 0,
    responders: ['http://ocsp.example.com/'],
    notAfter: now + 90 * 86_400_000,
    state: 'stapled',
    certStatus: 'good',
    thisUpdate: now - 3_600_000,
    nextUpdate: now + 4 * 86_400_000,
    validUntil: now + 4 * 86_400_000,
    source: 'fetch',
    nextRefreshAt: now + 2 * 86_400_000,
    nextRefreshRule: 'half of the validity',
    lastError: null,
    consecutiveFailures: 0,
    counters: { fetches: 1, fetchFailures: 0, stapled: 0, unstapled: 0 },
  }));
}

console.log('## A /metrics scrape (StaplerMetrics.text())\n');
console.log(
  '| certificates | per scrape, median of 15 (ms) | p90 (ms) | longest event-loop block, median (ms) | bytes | samples | ms per 1,000 certificates |',
);
console.log('|---|---|---|---|---|---|---|');
for (const count of quick ? [100] : [1_000, 10_000]) {
  const list = statuses(count);
  const source = Object.assign(new EventEmitter(), { status: () => list }) as unknown as StaplingEngine;
  const metrics = new StaplerMetrics({ version: 'bench', certLabels: () => (s) => `/etc/ssl/private/${s.subject.slice(3)}.pem` }).observe(source);
  await metrics.text();
  const times: number[] = [];
  const blocks: number[] = [];
  let text = '';
  for (let i = 0; i < (quick ? 2 : 15); i++) {
    // The longest time the event loop could not run anything else (an OCSP request, say) during the scrape.
    let last = performance.now();
    let longest = 0;
    let ticking = true;
    const tick = (): void => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const t = performance.now();
    text = await metrics.text();
    times.push(performance.now() - t);
    ticking = false;
    blocks.push(Math.max(longest, performance.now() - last));
  }
  const sorted = [...times].sort((a, b) => a - b);
  const samples = text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
  console.log(
    `| ${fmt(count)} | ${fmt(median(times), 1)} | ${fmt(sorted[Math.floor(sorted.length * 0.9)]!, 1)} | ${fmt(median(blocks), 1)} | ${fmt(Buffer.byteLength(text))} | ${fmt(samples)} | ${fmt(median(times) / (count / 1000), 1)} |`,
  );
}
