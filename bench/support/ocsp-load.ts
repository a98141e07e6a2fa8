// The load generator of bench/responder, in its own process (its own event loop and core): an
// undici Pool against one URL. Two jobs: as many requests as `connections` in flight allow for a
// fixed time (throughput), and requests at a fixed rate (latency of each, from its send).

import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';

export type LoadJob =
  | { readonly kind: 'throughput'; readonly origin: string; readonly path: string; readonly durationMs: number; readonly connections: number }
  | { readonly kind: 'latency'; readonly origin: string; readonly path: string; readonly perSecond: number; readonly count: number };

export type LoadResult =
  | { readonly kind: 'throughput'; readonly done: number; readonly failed: number; readonly ms: number }
  | { readonly kind: 'latency'; readonly latenciesMs: number[]; readonly failed: number };

async function once(pool: Pool, path: string): Promise<boolean> {
  const res = await pool.request({ method: 'GET', path });
  await res.body.arrayBuffer();
  return res.statusCode === 200;
}

async function throughput(job: Extract<LoadJob, { kind: 'throughput' }>): Promise<LoadResult> {
  const pool = new Pool(job.origin, { connections: job.connections, pipelining: 1 });
  let done = 0;
  let failed = 0;
  const start = performance.now();
  const end = start + job.durationMs;
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      if (await once(pool, job.path).catch(() => false)) done++;
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: job.connections }, worker));
  const ms = performance.now() - start;
  await pool.close();
  return { kind: 'throughput', done, failed, ms };
}

async function latency(job: Extract<LoadJob, { kind: 'latency' }>): Promise<LoadResult> {
  const pool = new Pool(job.origin, { connections: 8, pipelining: 1 });
  // Warm the connections first.
  await Promise.all(Array.from({ length: 8 }, () => once(pool, job.path)));
  const latenciesMs: number[] = [];
  let failed = 0;
  const inflight: Promise<void>[] = [];
  const interval = 1000 / job.perSecond;
  const start = performance.now();
  for (let i = 0; i < job.count; i++) {
    const due = start + i * interval;
    // Yield to I/O until the send time (timers are too coarse for 1 ms spacing; a busy loop would starve the responses).
    while (performance.now() < due) await new Promise((r) => setImmediate(r));
    const sent = performance.now();
    inflight.push(
      once(pool, job.path).then(
        (ok) => (ok ? void latenciesMs.push(performance.now() - sent) : void failed++),
        () => void failed++,
      ),
    );
  }
  await Promise.all(inflight);
  await pool.close();
  return { kind: 'latency', latenciesMs, failed };
}

process.on('message', (job: LoadJob) => {
  void (job.kind === 'throughput' ? throughput(job) : latency(job)).then((r) => process.send!(r));
});
