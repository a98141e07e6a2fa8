// Debian's Tomcat 10 (package tomcat10) run from a private CATALINA_BASE, configured as
// docs/servers/tomcat.md says: the package's server.xml with the page's HTTPS connector in place
// of the port 8080 one, and the package's /etc/default/tomcat10 with the page's JAVA_OPTS lines,
// started through Debian's own start script (which reads that file).

import assert from 'node:assert/strict';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { example } from './doc-examples.ts';
import { startServer, type ServerProcess } from './server-process.ts';

export const TOMCAT_HOME = '/usr/share/tomcat10';
const DEBIAN_CONF = '/etc/tomcat10';
const DEBIAN_DEFAULTS = '/etc/default/tomcat10';
const DEBIAN_START = '/usr/libexec/tomcat10/tomcat-start.sh';
const PAGE = 'docs/servers/tomcat.md';

/** The page's connector, listening on 127.0.0.1:port and reading the site's files from `dir`. */
export async function tomcatConnector(port: number, dir: string): Promise<string> {
  const connector = example('tomcat-connector', PAGE).code;
  assert.match(connector, /port="8443"/);
  return connector.replace('port="8443"', `port="${port}" address="127.0.0.1"`).replaceAll('/etc/tls/', `${dir}/`);
}

/**
 * The page's JAVA_OPTS lines with the test's responder URL and JDK cache lifetime (seconds); the
 * rest exactly as written.
 */
export function tomcatJavaOpts(responderUrl: string, cacheLifetimeSeconds: number): string {
  const block = example('tomcat-java-opts', PAGE).code;
  assert.match(block, /responderURI=http:\/\/127\.0\.0\.1:\d+\//);
  assert.match(block, /cacheLifetime=\d+/);
  return block
    .replace(/responderURI=http:\/\/127\.0\.0\.1:\d+\//, `responderURI=${responderUrl}`)
    .replace(/cacheLifetime=\d+/, `cacheLifetime=${cacheLifetimeSeconds}`);
}

/**
 * Tomcat in `base` (created), its HTTPS connector on 127.0.0.1:port, the site's files in
 * `siteDir` (site-fullchain.pem, site.key). Resolves once Tomcat logs that it started.
 */
export async function startTomcat(o: {
  base: string;
  siteDir: string;
  port: number;
  responderUrl: string;
  cacheLifetimeSeconds: number;
}): Promise<ServerProcess> {
  const conf = join(o.base, 'conf');
  await cp(DEBIAN_CONF, conf, { recursive: true });
  for (const d of ['logs', 'webapps', 'work', 'temp', 'lib']) await mkdir(join(o.base, d));
  const serverXml = await readFile(join(conf, 'server.xml'), 'utf8');
  const http8080 = /<Connector port="8080" protocol="HTTP\/1\.1"[^>]*\/>/;
  assert.match(serverXml, http8080, "Debian's server.xml has its HTTP connector on 8080");
  await writeFile(join(conf, 'server.xml'), serverXml.replace(http8080, await tomcatConnector(o.port, o.siteDir)));

  // Debian's defaults file with the page's lines appended, read by Debian's start script.
  const defaults = join(o.base, 'default-tomcat10');
  await writeFile(defaults, `${await readFile(DEBIAN_DEFAULTS, 'utf8')}\n${tomcatJavaOpts(o.responderUrl, o.cacheLifetimeSeconds)}`);
  const startScript = (await readFile(DEBIAN_START, 'utf8')).replace(`. ${DEBIAN_DEFAULTS}`, `. ${defaults}`);
  assert.ok(startScript.includes(defaults), `${DEBIAN_START} reads ${DEBIAN_DEFAULTS}`);
  await writeFile(join(o.base, 'tomcat-start.sh'), startScript);

  const env = { CATALINA_HOME: TOMCAT_HOME, CATALINA_BASE: o.base, CATALINA_TMPDIR: join(o.base, 'temp') };
  return startServer('env', [...Object.entries(env).map(([k, v]) => `${k}=${v}`), 'sh', join(o.base, 'tomcat-start.sh')], /Server startup in/);
}
