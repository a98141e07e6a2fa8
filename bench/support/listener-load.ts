// bench/listener's clients, in their own process: a slowloris attacker (connections that send part
// of their headers and never the rest, reopened as soon as dropped) and a legitimate client (GETs
// at a fixed rate, each on a connection of its own, as Apache's OCSP fetch makes them).

import { get } from 'node:http';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

export type ListenerJob =
  | { readonly kind: 'hold'; readonly port: number; readonly count: number }
  | { readonly kind: 'stop' }
  | { readonly kind: 'legit'; readonly port: number; readonly path: string; readonly perSecond: number; readonly count: number; readonly giveUpMs: number };

export type ListenerResult =
  | { readonly kind: 'holding'; readonly opened: number }
  | { readonly kind: 'stopped'; readonly opened: number }
  | { readonly kind: 'legit'; readonly latenciesMs: number[]; readonly failed: number };

let stopped = false;
let opened = 0;
const sockets = new Set<Socket>();

function hold(port: number): void {
  if (stopped) return;
  const s = connect(port, '127.0.0.1', () => s.write('GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: '));
  opened++;
  sockets.add(s);
  s.on('error', () => undefined);
  s.once('close', () => {
    sockets.delete(s);
    setImmediate(() => hold(port));
  });
}

/** One GET on its own connection: the ms to a complete 200, or null (refused, reset, another status, or over giveUpMs). */
function once(port: number, path: string, giveUpMs: number): Promise<number | null> {
  const sent = performance.now();
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path, agent: false, timeout: giveUpMs }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode === 200 ? performance.now() - sent : null));
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(null));
  });
}

async function legit(job: Extract<ListenerJob, { kind: 'legit' }>): Promise<ListenerResult> {
  const latenciesMs: number[] = [];
  let failed = 0;
  const inflight: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; i < job.count; i++) {
    const due = start + (i * 1000) / job.perSecond;
    while (performance.now() < due) await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
    inflight.push(once(job.port, job.path, job.giveUpMs).then((ms) => void (ms === null ? failed++ : latenciesMs.push(ms))));
  }
  await Promise.all(inflight);
  return { kind: 'legit', latenciesMs, failed };
}

process.on('message', (job: ListenerJob) => {
  if (job.kind === 'hold') {
    stopped = false;
    opened = 0;
    for (let i = 0; i < job.count; i++) hold(job.port);
    // Past the count: the cap is hit and connections are being dropped and reopened.
    const check = setInterval(() => {
      if (opened < job.count + 100) return;
      clearInterval(check);
      process.send!({ kind: 'holding', opened } satisfies ListenerResult);
    }, 50);
  } else if (job.kind === 'stop') {
    stopped = true;
    for (const s of sockets) s.destroy();
    process.send!({ kind: 'stopped', opened } satisfies ListenerResult);
  } else void legit(job).then((r) => process.send!(r));
});
