// bench/fleet: N host processes x M certificates sharing one real redis-server (each host on two
// tiers: its own directory under Redis), against the in-process test responder. Measures:
//   - CA requests per certificate for a cold start of the whole fleet at once (target: 1);
//   - CA requests when one more host joins (target: 0);
//   - a refresh round (one host fetches every certificate anew): time until every host serves
//     the new staples, and CA requests per certificate;
//   - Redis commands and bytes (in + out) per certificate, for each of those rounds
//     (INFO commandstats and INFO stats, reset before each round).
//
//   npm run bench:fleet                        (10 hosts x 200 certificates)
//   npm run bench:fleet -- --hosts 20 --certs 1000
//   npm run bench:fleet -- --quick             (3 x 20: a CI smoke run)
//   --command-timeout MS                       the Redis store's commandTimeoutMs (default 3000)
//   --mass                                     leaves from one template and key (always above 1,000 certificates)

import 'reflect-metadata';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FleetMember } from './support/fleet-process.ts';
import { Certificate } from '../src/ocsp/certificate.ts';
import { makeMassPki, pemOf } from './support/mass-pki.ts';
import { fullchain, issue, makePki, type Issued, type TestPki } from '../test/support/pki.ts';
import { RedisServer, redisMissing } from '../test/support/redis-server.ts';
import { TestResponder } from '../test/support/responder.ts';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const quick = process.argv.includes('--quick');
const HOSTS = arg('--hosts', quick ? 3 : 10);
const CERTS = arg('--certs', quick ? 20 : 200);
const COMMAND_TIMEOUT_MS = arg('--command-timeout', 3_000);
/** Leaves from one template and one key (bench/support/mass-pki.ts): --mass, or more than 1,000 certificates. */
const MASS = process.argv.includes('--mass') || CERTS > 1_000;

const missing = redisMissing();
if (missing) {
  console.log(`bench:fleet skipped: ${missing}`);
  process.exit(0);
}

const root = await mkdtemp(join(tmpdir(), 'stapler-fleet-bench-'));
const responder = new TestResponder();
const ocspUrl = await responder.listen();
const leaves: Issued[] = [];
let intermediate: Issued;
if (MASS) {
  // Leaves made from one template with one shared key (seconds for 10,000, where a key each takes minutes).
  const mass = await makeMassPki(ocspUrl);
  intermediate = mass.intermediate;
  for (let i = 0; i < CERTS; i++) {
    const der = mass.leafDer(i);
    // What the responder reads of an Issued: the parsed certificate (its serial) and the PEM.
    leaves.push({ name: mass.hostName(i), der, pem: pemOf(der), cert: new Certificate(der, `leaf ${i}`) } as unknown as Issued);
  }
  const first = leaves[0]!;
  responder.serve({ root: mass.root, intermediate, leaf: first, rsaLeaf: first, noAiaLeaf: first, mustStapleLeaf: first } as unknown as TestPki, leaves);
} else {
  const pki = await makePki({ ocspUrl });
  intermediate = pki.intermediate;
  for (let i = 0; i < CERTS; i++) leaves.push(await issue({ name: `fleet-${i}.test`, issuer: pki.intermediate, ocspUrls: [responder.url] }));
  responder.serve(pki, leaves);
}
const chains = join(root, 'chains.json');
await writeFile(chains, JSON.stringify(leaves.map((l) => fullchain(l, intermediate))));
const redis = await RedisServer.start();
const members: FleetMember[] = [];

/** Commands and bytes Redis handled since the last reset. */
function redisUsage(): { commands: number; bytes: number; top: string } {
  const calls = [...redis.cli('INFO', 'commandstats').matchAll(/cmdstat_([^:]+):calls=(\d+)/g)].map((m) => [m[1]!, Number(m[2])] as const);
  const commands = calls.reduce((n, [, c]) => n + c, 0);
  const stats = redis.cli('INFO', 'stats');
  const field = (name: string): number => Number(new RegExp(`${name}:(\\d+)`).exec(stats)?.[1] ?? 0);
  // The commands that made most of it, per certificate: what a per-certificate total is made of.
  const top = [...calls]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([name, c]) => `${name} ${(c / CERTS).toFixed(2)}`)
    .join(', ');
  return { commands, bytes: field('total_net_input_bytes') + field('total_net_output_bytes'), top };
}
function reset(): void {
  redis.cli('CONFIG', 'RESETSTAT');
}
const rows: Array<[string, string]> = [];
const perCert = (n: number): string => (n / CERTS).toFixed(2);

try {
  console.log(
    `bench:fleet: ${HOSTS} hosts x ${CERTS} certificates, command timeout ${COMMAND_TIMEOUT_MS} ms, one redis-server ${redis.cli('INFO', 'server').match(/redis_version:(\S+)/)?.[1] ?? ''}`,
  );
  // Cold start: every host at once, Redis empty.
  reset();
  let t = Date.now();
  for (let i = 0; i < HOSTS; i++) members.push(new FleetMember(redis.url, join(root, `host-${i}`), chains, 30_000, COMMAND_TIMEOUT_MS));
  const ready = await Promise.all(members.map((m) => m.next('ready', 600_000)));
  const coldMs = Date.now() - t;
  let usage = redisUsage();
  const served = ready.reduce((n, r) => n + (r.served as number), 0);
  rows.push(['cold start: CA requests per certificate', perCert(responder.requestCount)]);
  rows.push(['cold start: hosts x certificates stapled', `${served} / ${HOSTS * CERTS}`]);
  rows.push(['cold start: time until every host is ready', `${coldMs} ms`]);
  rows.push(['cold start: redis commands per certificate (all hosts)', perCert(usage.commands)]);
  rows.push(['cold start: redis bytes per certificate (all hosts)', perCert(usage.bytes)]);
  rows.push(['cold start: of which, per certificate', usage.top]);

  // A host joins.
  const before = responder.requestCount;
  reset();
  t = Date.now();
  const late = new FleetMember(redis.url, join(root, 'late'), chains, 30_000, COMMAND_TIMEOUT_MS);
  members.push(late);
  const lateReady = await late.next('ready', 600_000);
  usage = redisUsage();
  rows.push(['late host: CA requests', String(responder.requestCount - before)]);
  rows.push(['late host: stapled', `${String(lateReady.served)} / ${CERTS} in ${Date.now() - t} ms`]);
  rows.push(['late host: redis commands per certificate', perCert(usage.commands)]);
  rows.push(['late host: of which, per certificate (all hosts meanwhile)', usage.top]);

  // A refresh round: host 0 fetches everything anew; the others adopt it.
  await new Promise((r) => setTimeout(r, 1_100)); // thisUpdate has seconds: the new ones must be newer
  const beforeRound = responder.requestCount;
  reset();
  t = Date.now();
  members[0]!.send('refresh');
  await members[0]!.next('refreshed', 600_000);
  members[0]!.send('status');
  const target = (await members[0]!.next('status')).minThisUpdate as number;
  for (const m of members.slice(1)) m.send(`expect ${target}`);
  const caught = await Promise.all(members.slice(1).map((m) => m.next('caught-up', 600_000)));
  const lastAt = Math.max(...caught.map((c) => c.at as number));
  usage = redisUsage();
  rows.push(['refresh round: CA requests per certificate', perCert(responder.requestCount - beforeRound)]);
  rows.push(['refresh round: time until every host serves the new staples', `${lastAt - t} ms`]);
  rows.push(['refresh round: redis commands per certificate (all hosts)', perCert(usage.commands)]);
  rows.push(['refresh round: redis bytes per certificate (all hosts)', perCert(usage.bytes)]);
  rows.push(['refresh round: of which, per certificate', usage.top]);
  for (const [what, value] of rows) console.log(`${what.padEnd(64)} ${value}`);
} finally {
  await Promise.all(members.map((m) => m.stop()));
  await redis.stop();
  await responder.close();
  await rm(root, { recursive: true, force: true });
}
