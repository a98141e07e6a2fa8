// Debian's Jetty 9 (package jetty9) run from a private jetty.base, configured as
// docs/servers/jetty.md says: the page's keystore command, its start.d/ssl.ini and its
// JAVA_OPTIONS line, started the way Debian's jetty.sh starts it (java $JAVA_OPTIONS
// -Djetty.home -Djetty.base -jar start.jar).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { example } from './doc-examples.ts';
import { startServer, type ServerProcess } from './server-process.ts';

export const JETTY_HOME = '/usr/share/jetty9';
const PAGE = 'docs/servers/jetty.md';

/** Run the page's keystore command in `base`: its files under /etc/tls/ and /etc/jetty9/ are in `base`, its group ours. */
export function makeJettyKeystore(base: string): void {
  const block = example('jetty-keystore', PAGE).code;
  assert.match(block, /chgrp jetty /);
  const script = block
    .replaceAll('/etc/tls/', `${base}/`)
    .replaceAll('/etc/jetty9/', `${base}/`)
    .replace('chgrp jetty ', `chgrp ${process.getgid?.() ?? 0} `);
  const r = spawnSync('bash', ['-euo', 'pipefail', '-c', script], { cwd: base, encoding: 'utf8' });
  assert.equal(r.status, 0, `the keystore command of ${PAGE} failed: ${r.stdout}${r.stderr}`);
}

/** The page's ssl.ini with the keystore in `base`, listening on 127.0.0.1:port. */
export function jettySslIni(base: string, port: number): string {
  const ini = example('jetty-ssl-ini', PAGE).code;
  assert.match(ini, /^jetty\.ssl\.port=8443$/m);
  return `${ini.replace(/^jetty\.ssl\.port=8443$/m, `jetty.ssl.port=${port}`).replaceAll('/etc/jetty9/', `${base}/`)}jetty.ssl.host=127.0.0.1\n`;
}

/**
 * The page's JAVA_OPTIONS, as jetty.sh reads them (a shell sources /etc/default/jetty9), with
 * the test's responder URL and JDK cache lifetime (seconds).
 */
export function jettyJavaOptions(responderUrl: string, cacheLifetimeSeconds: number): string[] {
  const block = example('jetty-java-options', PAGE).code;
  // systemd reads the file too (EnvironmentFile): one assignment, nothing to expand.
  assert.equal(block.trim().split('\n').length, 1, `${PAGE}: JAVA_OPTIONS is set on one line`);
  assert.doesNotMatch(block, /\$/, `${PAGE}: JAVA_OPTIONS expands no variable`);
  const r = spawnSync('bash', ['-c', `${block}\nprintf '%s\\n' $JAVA_OPTIONS`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const options = r.stdout.trim().split('\n');
  const uri = options.findIndex((o) => o.startsWith('-Djdk.tls.stapling.responderURI='));
  const cache = options.findIndex((o) => o.startsWith('-Djdk.tls.stapling.cacheLifetime='));
  assert.ok(uri >= 0 && cache >= 0, `${PAGE}: JAVA_OPTIONS names the responder and the cache lifetime`);
  options[uri] = `-Djdk.tls.stapling.responderURI=${responderUrl}`;
  options[cache] = `-Djdk.tls.stapling.cacheLifetime=${cacheLifetimeSeconds}`;
  return options;
}

/**
 * Jetty with `base` as its jetty.base (the site's site-fullchain.pem and site.key already in it),
 * its HTTPS connector on 127.0.0.1:port. Resolves once Jetty logs that it started.
 */
export async function startJetty(o: { base: string; port: number; responderUrl: string; cacheLifetimeSeconds: number }): Promise<ServerProcess> {
  makeJettyKeystore(o.base);
  await mkdir(join(o.base, 'start.d'));
  await writeFile(join(o.base, 'start.d', 'ssl.ini'), jettySslIni(o.base, o.port));
  const tmp = join(o.base, 'tmp');
  await mkdir(tmp);
  const args = [
    ...jettyJavaOptions(o.responderUrl, o.cacheLifetimeSeconds),
    `-Djetty.home=${JETTY_HOME}`,
    `-Djetty.base=${o.base}`,
    `-Djava.io.tmpdir=${tmp}`,
    '-jar',
    join(JETTY_HOME, 'start.jar'),
  ];
  return startServer('java', args, /Started @\d+ms/);
}
