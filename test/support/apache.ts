// Apache httpd 2.4 on 127.0.0.1 with a private configuration in a temp dir: its own ServerRoot,
// PidFile, runtime dir, logs, stapling cache and mutexes, so that it touches nothing of the
// system's Apache. Run in the foreground (-DFOREGROUND) and stopped with SIGTERM.

import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { APACHE_MODULES as MODULES, peerSkip } from './peers.ts';
import { startServer, type ServerProcess } from './server-process.ts';

const APACHE = existsSync('/usr/sbin/apache2') ? '/usr/sbin/apache2' : 'apache2';

/** Why Apache tests must be skipped, or false when Apache with mod_ssl is there. */
export const noApache: string | false = peerSkip('apache2', 'openssl');

/**
 * The stapling directives docs/servers/apache.md gives for Apache with Stapler's responder. The test runs
 * exactly these (with short cache timeouts where it says so), and docs-peers.test.ts checks the page's.
 */
export function staplingDirectives(opts: {
  responderUrl: string;
  standardCacheTimeout?: number;
  errorCacheTimeout?: number;
  /** Point Apache at the given URL with Apache's own defaults (the control experiment). */
  apacheDefaults?: boolean;
}): string {
  if (opts.apacheDefaults) return `SSLUseStapling on\nSSLStaplingForceURL ${opts.responderUrl}\n`;
  return `SSLUseStapling on
SSLStaplingForceURL ${opts.responderUrl}
SSLStaplingReturnResponderErrors off
SSLStaplingFakeTryLater off
SSLStaplingResponderTimeout 2
SSLStaplingStandardCacheTimeout ${opts.standardCacheTimeout ?? 60}
SSLStaplingErrorCacheTimeout ${opts.errorCacheTimeout ?? 5}
SSLStaplingResponseTimeSkew 1
`;
}

export interface ApacheOptions {
  readonly dir: string;
  readonly port: number;
  /** PEM file with the certificate chain (leaf first) and its key. */
  readonly certFile: string;
  /** The stapling directives for the virtual host (see staplingDirectives). */
  readonly stapling: string;
}

export interface Apache extends ServerProcess {
  readonly errorLog: string;
  log(): Promise<string>;
}

export function apacheConf(o: ApacheOptions): string {
  const run = join(o.dir, 'run');
  return `ServerRoot ${o.dir}
ServerName localhost
Listen 127.0.0.1:${o.port}
PidFile ${run}/httpd.pid
DefaultRuntimeDir ${run}
Mutex file:${run} default
ErrorLog ${o.dir}/error.log
LogLevel warn ssl:info
SSLSessionCache none
LoadModule mpm_event_module ${MODULES}/mod_mpm_event.so
LoadModule authz_core_module ${MODULES}/mod_authz_core.so
LoadModule socache_shmcb_module ${MODULES}/mod_socache_shmcb.so
LoadModule ssl_module ${MODULES}/mod_ssl.so
StartServers 1
ServerLimit 1
ThreadsPerChild 8
MaxRequestWorkers 8
User nobody
Group nogroup
DocumentRoot ${o.dir}/htdocs
SSLStaplingCache shmcb:${run}/stapling(128000)
<VirtualHost 127.0.0.1:${o.port}>
  SSLEngine on
  SSLProtocol -all +TLSv1.2 +TLSv1.3
  SSLCertificateFile ${o.certFile}
  SSLCertificateKeyFile ${o.certFile}
${o.stapling
  .trim()
  .split('\n')
  .map((l) => `  ${l}`)
  .join('\n')}
</VirtualHost>
`;
}

const accepts = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

export async function startApache(o: ApacheOptions): Promise<Apache> {
  await mkdir(join(o.dir, 'run'), { recursive: true });
  await mkdir(join(o.dir, 'htdocs'), { recursive: true });
  const conf = join(o.dir, 'httpd.conf');
  await writeFile(conf, apacheConf(o));
  const errorLog = join(o.dir, 'error.log');
  const server = await startServer(APACHE, ['-DFOREGROUND', '-f', conf], () => accepts(o.port), errorLog);
  return { ...server, errorLog, log: () => readFile(errorLog, 'utf8').catch(() => '') };
}
