// bench/apache-first-handshake: how long Apache httpd's first handshake after start takes when
// it staples (a) from the CA's responder directly and (b) through Stapler's daemon, with the CA's
// responder healthy and hanging. Apache fetches inside that first handshake, so a hanging CA
// makes the client wait SSLStaplingResponderTimeout; the daemon answers from memory.
// Rounds are interleaved; every round starts a fresh Apache (the directives of docs/servers/apache.md).
//
//   npm run bench:apache             (~30 s)
//   npm run bench:apache -- --quick

import { join } from 'node:path';
import { noApache, startApache, staplingDirectives } from '../test/support/apache.ts';
import { freePort } from '../test/support/openssl.ts';
import { PeerRig, timedHandshake } from '../test/support/peer-rig.ts';
import { percentile } from './support/client.ts';

if (noApache) {
  console.log(`bench:apache skipped: ${noApache}`);
  process.exit(0);
}
const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 2 : 7;

// The test CA and the daemon with its responder, wired as `stapler daemon --listen` wires them.
const rig = new PeerRig();
await rig.open();
const responder = rig.responder;
const { dir, certFile } = await rig.site('bench-apache');
// A short fetch timeout: the "daemon fetching from a hanging CA" rounds wait for it to end.
const { daemon, url: daemonUrl } = await rig.readyDaemon(dir, { timeoutMs: 2_000, deadlineMs: 2_000 });

interface Case {
  readonly name: string;
  readonly url: string;
  readonly ca: 'good' | 'hang';
}
const CASES: readonly Case[] = [
  { name: 'CA directly, CA healthy', url: responder.url, ca: 'good' },
  { name: 'CA directly, CA hangs', url: responder.url, ca: 'hang' },
  { name: 'daemon, CA healthy', url: daemonUrl, ca: 'good' },
  { name: 'daemon, CA hangs (daemon fetching)', url: daemonUrl, ca: 'hang' },
];
const results = new Map<string, { ms: number[]; stapled: number }>(CASES.map((c) => [c.name, { ms: [], stapled: 0 }]));

for (let round = 0; round < ROUNDS; round++) {
  for (const c of CASES) {
    responder.behaviour = c.ca;
    // With the daemon in front, make it fetch from the hanging CA at the same time.
    const refreshing = c.url === daemonUrl && c.ca === 'hang' ? daemon.refreshAll() : null;
    const apacheDir = join(dir, `apache-${round}-${CASES.indexOf(c)}`);
    const port = await freePort();
    const apache = await startApache({ dir: apacheDir, port, certFile, stapling: staplingDirectives({ responderUrl: c.url }) });
    const first = await timedHandshake(port);
    await apache.stop();
    responder.behaviour = 'good';
    await refreshing;
    const r = results.get(c.name)!;
    r.ms.push(first.ms);
    if (first.stapled) r.stapled++;
  }
}

const median = (xs: number[]): number => percentile(xs, 50);
const base = median(results.get(CASES[0]!.name)!.ms);
console.log(`Apache ${ROUNDS} fresh starts per case, first handshake (TLS 1.2, status_request), SSLStaplingResponderTimeout 2`);
console.log('| Apache staples from | first handshake, median (ms) | min–max (ms) | ratio to CA healthy | stapled |');
console.log('|---|---|---|---|---|');
for (const c of CASES) {
  const r = results.get(c.name)!;
  const m = median(r.ms);
  console.log(
    `| ${c.name} | ${m.toFixed(1)} | ${Math.min(...r.ms).toFixed(1)}–${Math.max(...r.ms).toFixed(1)} | ${(m / base).toFixed(2)} | ${r.stapled}/${r.ms.length} |`,
  );
}

await rig.closeAll();
