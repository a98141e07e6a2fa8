// The load generator of bench/responder, in its own process (its own event loop and core): an
// undici Pool against one URL. Two jobs: as many requests as `connections` in flight allow for a
// fixed time (throughput), and requests at a fixed rate (latency of each, from the time it was
// due to be sent, so that the generator's own delays count: no coordinated omission). Only an
// answer with the expected staple bytes counts as a success; `expected: null` is for hostile
// requests (bench/get-path), where any complete answer counts.

import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';

export type LoadJob =
  | {
      readonly kind: 'throughput';
      readonly origin: string;
      readonly path: string;
      readonly expected: string | null;
      readonly durationMs: number;
      readonly connections: number;
    }
  | {
      readonly kind: 'latency';
      readonly origin: string;
      readonly path: string;
      readonly expected: string | null;
      readonly perSecond: number;
      readonly count: number;
    };

export type LoadResult =
  | { readonly kind: 'throughput'; readonly done: number; readonly failed: number; readonly ms: number }
  | { readonly kind: 'latency'; readonly latenciesMs: number[]; readonly failed: number };

/** One request: true only for a 200 whose body is the expected staple (null: any complete answer). */
async function once(pool: Pool, path: string, expected: Buffer | null): Promise<boolean> {
  const res = await pool.request({ method: 'GET', path });
  const body = Buffer.from(await res.body.arrayBuffer());
  return expected === null || (res.statusCode === 200 && body.equals(expected));
}

async function throughput(job: Extract<LoadJob, { kind: 'throughput' }>): Promise<LoadResult> {
  const pool = new Pool(job.origin, { connections: job.connections, pipelining: 1 });
  const expected = job.expected === null ? null : Buffer.from(job.expected, 'base64');
  let done = 0;
  let failed = 0;
  const start = performance.now();
  const end = start + job.durationMs;
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      if (await once(pool, job.path, expected).catch(() => false)) done++;
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
  const expected = job.expected === null ? null : Buffer.from(job.expected, 'base64');
  // Warm the connections first.
  await Promise.all(Array.from({ length: 8 }, () => once(pool, job.path, expected)));
  const latenciesMs: number[] = [];
  let failed = 0;
  const inflight: Promise<void>[] = [];
  const interval = 1000 / job.perSecond;
  const start = performance.now();
  for (let i = 0; i < job.count; i++) {
    const due = start + i * interval;
    // Yield to I/O until the send time (timers are too coarse for 1 ms spacing; a busy loop would starve the responses).
    while (performance.now() < due) await new Promise((r) => setImmediate(r));
    // Timed from `due`, not from the actual send: a late send is latency a client would see.
    inflight.push(
      once(pool, job.path, expected).then(
        (ok) => (ok ? void latenciesMs.push(performance.now() - due) : void failed++),
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
