// bench/certificate-memory: what one parsed Certificate costs to keep, as a process with many
// certificates keeps them (each with its own exact-size DER copy, its serial read once).
// Heap + external after a full GC, before and after parsing COUNT certificates, per certificate.
//
//   npm run bench:cert-memory
//   STAPLER_CORE=/path/to/ocsp/index.ts npm run bench:cert-memory   (another core, side by side)

import 'reflect-metadata';
import type * as CoreTypes from '../src/ocsp/index.ts';
import { issue } from '../test/support/pki.ts';

type Core = typeof CoreTypes;
const coreUrl = process.env.STAPLER_CORE ? new URL(`file://${process.env.STAPLER_CORE}`) : new URL('../src/ocsp/index.ts', import.meta.url);
const core = (await import(coreUrl.href)) as Core;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc (npm run bench:cert-memory does)');
const COUNT = 10_000;

// The shape bench/many uses: an ECDSA leaf with a subject, a SAN and an OCSP URL.
const ca = await issue({ name: 'Memory CA', ca: true });
const leaf = await issue({ name: 'host-1234.test', issuer: ca, ocspUrls: ['http://127.0.0.1:20000/'] });

function used(): number {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

function copy(der: Uint8Array): Buffer {
  const b = Buffer.allocUnsafeSlow(der.length);
  b.set(der);
  return b;
}

// DER copies alone, then the same copies parsed: the difference is what parsing keeps.
const before = used();
const ders = Array.from({ length: COUNT }, () => copy(leaf.der));
const withDer = used();
const certs = ders.map((der) => {
  const c = new core.Certificate(der, 'leaf');
  void c.serialHex;
  void c.ocspUrls;
  return c;
});
const withCerts = used();
const perDer = (withDer - before) / COUNT;
const perCert = (withCerts - withDer) / COUNT;
console.log(`bench/certificate-memory: ${COUNT} certificates of ${leaf.der.length} bytes; Node ${process.version}; core ${coreUrl.pathname}\n`);
console.log('| per certificate | bytes |');
console.log('|---|---:|');
console.log(`| its DER copy | ${Math.round(perDer)} |`);
console.log(`| the parsed Certificate (beyond its DER) | ${Math.round(perCert)} |`);
console.log(`| together | ${Math.round(perDer + perCert)} |`);
if (certs.length !== COUNT) throw new Error('unreachable');
