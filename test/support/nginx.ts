// nginx on 127.0.0.1 with a private prefix and configuration in a temp dir.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { peerSkip } from './peers.ts';
import { startServer, type ServerProcess } from './server-process.ts';

export const noNginx: string | false = peerSkip('nginx', 'openssl');

/** The stapling directives docs/servers/nginx.md gives for nginx with Stapler's responder; the tests run these. */
export function nginxResponderDirectives(responderUrl: string, trustedCertificate: string): string {
  return `ssl_stapling on;
ssl_stapling_responder ${responderUrl};
ssl_stapling_verify on;
ssl_trusted_certificate ${trustedCertificate};
`;
}

export async function startNginx(o: { dir: string; port: number; certFile: string; stapling: string }): Promise<ServerProcess> {
  await mkdir(join(o.dir, 'tmp'), { recursive: true });
  const conf = join(o.dir, `nginx-${o.port}.conf`);
  const log = join(o.dir, `nginx-${o.port}.log`);
  const stapling = o.stapling
    .trim()
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
  const server = `  server {
    listen 127.0.0.1:${o.port} ssl;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_certificate ${o.certFile};
    ssl_certificate_key ${o.certFile};
${stapling}
    location / { return 200 "ok\\n"; }
  }`;
  await writeFile(conf, nginxConf(o.dir, server, { pid: join(o.dir, `nginx-${o.port}.pid`), errorLog: log }));
  return startServer('nginx', ['-p', o.dir, '-c', conf], /start worker process/, log);
}

/** A private nginx configuration on loopback: no daemonizing, every path under `dir` (its pid and error log named by `files`). */
export function nginxConf(dir: string, servers: string, files = { pid: join(dir, 'nginx.pid'), errorLog: join(dir, 'error.log') }): string {
  return `worker_processes 1;
pid ${files.pid};
error_log ${files.errorLog} notice;
daemon off;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp; proxy_temp_path ${dir}/tmp; fastcgi_temp_path ${dir}/tmp; uwsgi_temp_path ${dir}/tmp; scgi_temp_path ${dir}/tmp;
${servers}
}
`;
}
