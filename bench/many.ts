// bench/many: 10,000 certificates in one process, against a local `openssl ocsp` responder.
//   - time until ready();
//   - memory per certificate (heap + external, after GC);
//   - event-loop delay p99 while they are all fetched at once (the prefetch), and again while all
//     of them refresh at once. Target <= 20 ms.
// Uses the default directory store (in a temporary directory) and the default concurrency (8).
//
//   npm run bench:many                 (10,000 certificates, a few minutes)
//   npm run bench:many -- --count 1000

import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as x509 from '@peculiar/x509';
import { silentLogger } from '../src/engine/logger.ts';
import { Stapler } from '../src/node/stapler.ts';
import { startOpensslResponder } from '../test/support/openssl.ts';
import { issue } from '../test/support/pki.ts';

const countArg = process.argv.indexOf('--count');
const COUNT = countArg > 0 ? Number(process.argv[countArg + 1]) : 10_000;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc (npm run bench:many does)');

const dir = await mkdtemp(join(tmpdir(), 'stapler-many-'));
const t0 = Date.now();

// The PKI: one intermediate; COUNT leaves sharing one key (key generation is not what is measured).
const root = await issue({ name: 'Many Root', ca: true });
const intermediate = await issue({ name: 'Many Intermediate', ca: true, issuer: root });
const leafKeys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
await writeFile(join(dir, 'ca.pem'), intermediate.pem);
await writeFile(join(dir, 'ca.key'), intermediate.keyPem);
const port = 20_000 + Math.floor(Math.random() * 20_000);
const ocspUrl = `http://127.0.0.1:${port}/`;
const chains: string[] = [];
const index: string[] = [];
const aia = new x509.AuthorityInfoAccessExtension({ ocsp: [ocspUrl] });
for (let i = 0; i < COUNT; i++) {
  const serial = (0x100000 + i).toString(16).toUpperCase();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial,
    subject: `CN=host-${i}.test`,
    issuer: intermediate.x509.subject,
    notBefore: new Date(Date.now() - 86_400_000),
    notAfter: new Date(Date.now() + 90 * 86_400_000),
    publicKey: leafKeys.publicKey,
    signingKey: intermediate.keys.privateKey,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams,
    extensions: [aia],
  });
  chains.push(`${cert.toString('pem')}\n${intermediate.pem}`);
  index.push(`V\t301231235959Z\t\t${serial}\tunknown\t/CN=host-${i}.test`);
}
await writeFile(join(dir, 'index.txt'), `${index.join('\n')}\n`);
console.error(`generated ${COUNT} certificates in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

// The responder: openssl ocsp on the port the certificates name.
const responder = await startOpensslResponder({ cwd: dir, index: 'index.txt', ca: 'ca.pem', rsigner: 'ca.pem', rkey: 'ca.key', port });

const memory = (): number => {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
};
// RSS as well: strings made from buffers live outside the heap and are not in heapUsed or external.
const rss = (): number => {
  gc();
  gc();
  return process.memoryUsage().rss;
};
const before = memory();
const rssBefore = rss();

const stapler = new Stapler({ store: { directory: join(dir, 'store') }, logger: silentLogger });
const eld = monitorEventLoopDelay({ resolution: 5 });
eld.enable();
const start = performance.now();
const cpuStart = process.cpuUsage();
for (const chain of chains) await stapler.add(chain);
const added = performance.now();
const stapledAtReady = (await stapler.ready({ timeout: 600_000 })).stapled.length;
const readyMs = performance.now() - start;
const cpuUsed = process.cpuUsage(cpuStart);
const cpuShare = (cpuUsed.user + cpuUsed.system) / 1000 / readyMs;
eld.disable();
const prefetchP99 = eld.percentile(99) / 1e6;
const prefetchMax = eld.max / 1e6;

chains.length = 0; // the stapler keeps what it needs
const after = memory();
const rssAfter = rss();

// All of them refresh at once.
const eld2 = monitorEventLoopDelay({ resolution: 5 });
eld2.enable();
const refreshStart = performance.now();
const leaves = stapler.status().map((s) => s.id);
await Promise.all(leaves.map((id) => stapler.refreshById(id)));
const refreshMs = performance.now() - refreshStart;
eld2.disable();

const stapled = stapler.status().filter((s) => s.state === 'stapled').length;
console.log(`bench/many: ${COUNT} certificates, Node ${process.version}, directory store, concurrency 8, openssl ocsp responder\n`);
console.log('| measure | value |');
console.log('|---|---:|');
console.log(`| add() of all certificates | ${(added - start).toFixed(0)} ms |`);
console.log(`| time until ready() | ${(readyMs / 1000).toFixed(1)} s (${((COUNT / readyMs) * 1000).toFixed(0)} certificates/s) |`);
console.log(`| stapled after ready() | ${stapledAtReady} of ${COUNT} |`);
console.log(`| this process's CPU until ready() (the rest is the responder and the disk) | ${(cpuShare * 100).toFixed(0)} % of one core |`);
console.log(`| memory per certificate (heap + external, after GC) | ${((after - before) / COUNT / 1024).toFixed(1)} KiB |`);
console.log(`| resident memory per certificate (RSS, after GC; includes the allocator's slack) | ${((rssAfter - rssBefore) / COUNT / 1024).toFixed(1)} KiB |`);
console.log(`| event-loop delay during the prefetch: p99 / max | ${prefetchP99.toFixed(1)} ms / ${prefetchMax.toFixed(1)} ms |`);
console.log(`| all refreshed at once: time | ${(refreshMs / 1000).toFixed(1)} s |`);
console.log(`| event-loop delay while all refresh at once: p99 / max | ${(eld2.percentile(99) / 1e6).toFixed(1)} ms / ${(eld2.max / 1e6).toFixed(1)} ms |`);
console.log(`| stapled after the refresh | ${stapled} of ${COUNT} |`);

await stapler.close();
await responder.stop();
await rm(dir, { recursive: true, force: true });
