// A small JSSE TLS server (test/support/java/StaplingServer.java), compiled with javac into a
// temp dir and run with the JDK's server-side stapling pointed at one responder URL.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openssl } from './openssl.ts';
import type { Issued } from './pki.ts';
import { peerSkip } from './peers.ts';
import { startServer, type ServerProcess } from './server-process.ts';

const SOURCE = new URL('./java/StaplingServer.java', import.meta.url).pathname;

/** Why Java tests must be skipped, or false when javac, java and openssl are there. */
export const noJava: string | false = peerSkip('java', 'openssl');

/**
 * The JDK system properties docs/servers/java.md gives for stapling through Stapler's responder. The
 * tests run exactly these.
 */
export function jdkStaplingProperties(responderUrl: string, opts: { cacheLifetimeSeconds?: number; responseTimeoutMs?: number } = {}): string[] {
  return [
    '-Djdk.tls.server.enableStatusRequestExtension=true',
    `-Djdk.tls.stapling.responderURI=${responderUrl}`,
    '-Djdk.tls.stapling.responderOverride=true',
    `-Djdk.tls.stapling.responseTimeout=${opts.responseTimeoutMs ?? 2000}`,
    `-Djdk.tls.stapling.cacheLifetime=${opts.cacheLifetimeSeconds ?? 60}`,
  ];
}

/** Compile the server into `dir` (once per dir). */
export function compileJavaServer(dir: string): void {
  if (existsSync(join(dir, 'StaplingServer.class'))) return;
  const r = spawnSync('javac', ['-d', dir, SOURCE], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`javac failed: ${r.stderr}`);
}

/** A PKCS12 keystore with the leaf, its key and the chain (the JDK needs the issuer to build the CertID). */
export async function makeKeystore(dir: string, leaf: Issued, chain: readonly Issued[], password = 'changeit'): Promise<string> {
  await writeFile(join(dir, 'leaf.pem'), leaf.pem);
  await writeFile(join(dir, 'leaf.key'), leaf.keyPem);
  await writeFile(join(dir, 'chain.pem'), chain.map((c) => c.pem).join(''));
  const out = join(dir, 'server.p12');
  const r = await openssl(
    ['pkcs12', '-export', '-in', 'leaf.pem', '-inkey', 'leaf.key', '-certfile', 'chain.pem', '-name', 'server', '-out', out, '-passout', `pass:${password}`],
    dir,
  );
  if (r.code !== 0) throw new Error(`openssl pkcs12 -export failed: ${r.stderr}`);
  return out;
}

export async function startJavaServer(o: {
  dir: string;
  port: number;
  keystore: string;
  properties: readonly string[];
  password?: string;
}): Promise<ServerProcess> {
  compileJavaServer(o.dir);
  return startServer('java', [...o.properties, '-cp', o.dir, 'StaplingServer', String(o.port), o.keystore, o.password ?? 'changeit'], /listening on/);
}
