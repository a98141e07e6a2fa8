// bench/apache-first-handshake: how long Apache httpd's first handshake after start takes when
// it staples (a) from the CA's responder directly and (b) through Stapler's daemon, with the CA's
// responder healthy and hanging. Apache fetches inside that first handshake, so a hanging CA
// makes the client wait SSLStaplingResponderTimeout; the daemon answers from memory.
// Rounds are interleaved; every round starts a fresh Apache (the README's directives).
//
//   npm run bench:apache             (~30 s)
//   npm run bench:apache -- --quick

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildConfig } from '../src/daemon/config.ts';
import { Daemon } from '../src/daemon/daemon.ts';
import { silentLogger } from '../src/engine/logger.ts';
import { noApache, startApache, staplingDirectives } from '../test/support/apache.ts';
import { freePort } from '../test/support/openssl.ts';
import { hasStaple, timedHandshake } from '../test/support/peer-rig.ts';
import { fullchain, makePki } from '../test/support/pki.ts';
import { TestResponder } from '../test/support/responder.ts';
import { waitFor } from '../test/support/wait.ts';
import { percentile } from './support/client.ts';

if (noApache) {
  console.log(`bench:apache skipped: ${noApache}`);
  process.exit(0);
}
const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 2 : 7;

const responder = new TestResponder();
const pki = await makePki({ ocspUrl: await responder.listen() });
responder.serve(pki);
const dir = await mkdtemp(join(tmpdir(), 'stapler-bench-apache-'));
await mkdir(join(dir, 'certs'));
const certFile = join(dir, 'certs', 'site.pem');
await writeFile(certFile, fullchain(pki.leaf, pki.intermediate) + pki.leaf.keyPem);

const daemonPort = await freePort();
const daemon = new Daemon(
  buildConfig(
    { certificates: [certFile], stateFile: join(dir, 'state.json'), storeDir: join(dir, 'store'), listen: `127.0.0.1:${daemonPort}`, timeoutMs: 5_000 },
    dir,
  ),
  { logger: silentLogger },
);
await daemon.start();
await waitFor("the daemon's first staple", () => hasStaple(daemon));
const daemonUrl = `http://127.0.0.1:${daemonPort}/`;

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

await daemon.stop();
await responder.close();
await rm(dir, { recursive: true, force: true });
