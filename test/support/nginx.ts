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
  const tmp = join(o.dir, 'tmp');
  await writeFile(
    conf,
    `worker_processes 1;
pid ${o.dir}/nginx-${o.port}.pid;
error_log ${o.dir}/nginx-${o.port}.log notice;
daemon off;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${tmp}; proxy_temp_path ${tmp}; fastcgi_temp_path ${tmp}; uwsgi_temp_path ${tmp}; scgi_temp_path ${tmp};
  server {
    listen 127.0.0.1:${o.port} ssl;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_certificate ${o.certFile};
    ssl_certificate_key ${o.certFile};
${o.stapling
  .trim()
  .split('\n')
  .map((l) => `    ${l}`)
  .join('\n')}
    location / { return 200 "ok\\n"; }
  }
}
`,
  );
  return startServer('nginx', ['-p', o.dir, '-c', conf], /start worker process/, join(o.dir, `nginx-${o.port}.log`));
}

/** A private nginx configuration on loopback: no daemonizing, every path under `dir`. */
export function nginxConf(dir: string, servers: string): string {
  return `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log notice;
daemon off;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp; proxy_temp_path ${dir}/tmp; fastcgi_temp_path ${dir}/tmp; uwsgi_temp_path ${dir}/tmp; scgi_temp_path ${dir}/tmp;
${servers}
}
`;
}
