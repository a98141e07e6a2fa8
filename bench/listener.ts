// bench/listener: legitimate OCSP GETs while a slowloris attack holds the daemon's listener
// (issue 16 item 6): 600 connections that never finish their headers, reopened as soon as they are
// dropped, from 127.0.0.1 like the legitimate client. Each legitimate GET opens a connection of
// its own (as Apache's OCSP fetch does) and gives up after 5 s. Side by side with another checkout
// (the baseline) in one run; the attacker and the client are forked processes.
// Target: >= 95 % answered within 1 s under attack.
//
//   npm run bench:listener
//   npm run bench:listener -- --quick                      (a smoke run: CI runs this)
//   STAPLER_BASELINE=/work/main npm run bench:listener     (also the baseline's listener, same run)

import { fork, type ChildProcess } from 'node:child_process';
import { percentile } from './support/client.ts';
import type { ListenerJob, ListenerResult } from './support/listener-load.ts';
import { checkouts, responderRig, type Responder } from './support/responder-rig.ts';

const quick = process.argv.includes('--quick');
const ATTACKERS = 600;
const REQUESTS = quick ? 20 : 200;
const RATE = 20;

const rig = await responderRig();
const { path } = rig;
const trees: Responder[] = [];
for (const c of checkouts()) trees.push(await rig.responder(c));

const child = (): ChildProcess =>
  fork(new URL('./support/listener-load.ts', import.meta.url).pathname, [], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
const attacker = child();
const client = child();
const ask = (p: ChildProcess, job: ListenerJob): Promise<ListenerResult> =>
  new Promise((resolve) => {
    p.once('message', (r: ListenerResult) => resolve(r));
    p.send(job);
  });

const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
console.log(
  `bench/listener: Node ${process.version}, ${fmt(REQUESTS)} legitimate GETs at ${RATE}/s (a new connection each), ${ATTACKERS} slowloris connections\n`,
);
console.log('| listener | attack | answered within 1 s | answered at all (5 s) | p50 (ms) | p99 (ms) |');
console.log('|---|---|---:|---:|---:|---:|');
for (const attacked of [false, true]) {
  for (const t of trees) {
    if (attacked) await ask(attacker, { kind: 'hold', port: t.port, count: ATTACKERS });
    const r = await ask(client, { kind: 'legit', port: t.port, path, perSecond: RATE, count: REQUESTS, giveUpMs: 5_000 });
    if (attacked) await ask(attacker, { kind: 'stop' });
    if (r.kind !== 'legit') throw new Error('bench/listener: unexpected answer from the client');
    const within = r.latenciesMs.filter((ms) => ms <= 1_000).length;
    const p = (q: number): string => (r.latenciesMs.length ? fmt(percentile(r.latenciesMs, q), 1) : '–');
    console.log(
      `| ${t.name} | ${attacked ? `${ATTACKERS} slowloris` : 'none'} | ${fmt((within / REQUESTS) * 100, 1)} % | ${fmt((r.latenciesMs.length / REQUESTS) * 100, 1)} % | ${p(50)} | ${p(99)} |`,
    );
    // Let the dropped attackers' sockets close before the next round.
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

attacker.kill();
client.kill();
await rig.close();
