// The server configurations of docs/servers/ in file mode, checked by the servers themselves
// (`nginx -t`, `haproxy -c`) with the docs' paths moved to a temp dir, and each checked against
// the daemon configuration on the same page: the files one writes are the files the other reads.
// (What the servers then do with the staples is test/servers/real-servers.test.ts.)

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { parseConfig } from '../../src/daemon/config.ts';
import { outputsOf } from '../../src/daemon/inputs.ts';
import { NGINX_INCLUDE_OFF, nginxIncludeOn } from '../../src/daemon/nginx.ts';
import { example, examples } from '../support/doc-examples.ts';
import { fullchain, makePki, type TestPki } from '../support/pki.ts';
import { buildResponse } from '../support/responses.ts';

const runs = (cmd: string, args: string[]): boolean => spawnSync(cmd, args).status === 0;
const noNginx = runs('nginx', ['-v']) ? false : 'nginx is not installed (scripts/install-peers.sh installs it)';
const noHaproxy = runs('haproxy', ['-v']) ? false : 'haproxy is not installed (scripts/install-peers.sh installs it)';

/** The daemon configuration on a server's page. */
const daemonConfig = (file: string): ReturnType<typeof parseConfig> => {
  const [block] = examples('daemon-config').filter((e) => e.file === file);
  assert.ok(block, `${file} has a daemon configuration`);
  return parseConfig(block.code, file, '/etc/stapler');
};

let pki: TestPki;
let staple: Buffer;
before(async () => {
  pki = await makePki({ ocspUrl: 'http://127.0.0.1:9/ocsp' });
  const now = Date.now();
  staple = buildResponse({ cert: pki.leaf, issuer: pki.intermediate, thisUpdate: new Date(now - 60_000), nextUpdate: new Date(now + 86_400_000) });
});

async function scratch(t: { after: (fn: () => Promise<void>) => void }, name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `stapler-docs-${name}-`));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('docs/servers/nginx.md, file mode', { skip: noNginx }, () => {
  it("includes the file the daemon's nginxInclude writes, and nginx -t takes it with stapling off and on", async (t) => {
    const server = example('nginx-file-mode', 'docs/servers/nginx.md').code;
    const certFile = /ssl_certificate\s+(\S+);/.exec(server)![1]!;
    const include = /include (\S+);/.exec(server)![1]!;
    const outputs = outputsOf(daemonConfig('docs/servers/nginx.md'), certFile);
    assert.equal(outputs.includeFile, include, 'the include the daemon writes for ssl_certificate');
    const stapleFile = outputs.stapleFile;
    assert.ok(stapleFile, 'the nginx page writes staple files');

    const dir = await scratch(t, 'nginx');
    const moved = (p: string): string => p.replaceAll('/etc/nginx/tls/', `${dir}/`);
    await writeFile(moved(certFile), fullchain(pki.leaf, pki.intermediate));
    await writeFile(moved(/ssl_certificate_key\s+(\S+);/.exec(server)![1]!), pki.leaf.keyPem);
    await mkdir(join(dir, 'tmp'));
    const conf = join(dir, 'nginx.conf');
    await writeFile(
      conf,
      `pid ${dir}/nginx.pid;\nerror_log ${dir}/error.log;\nevents {}\nhttp {\n  client_body_temp_path ${dir}/tmp;\n  proxy_temp_path ${dir}/tmp;\n` +
        `  fastcgi_temp_path ${dir}/tmp;\n  uwsgi_temp_path ${dir}/tmp;\n  scgi_temp_path ${dir}/tmp;\n` +
        moved(server).replace('listen 443 ssl;', 'listen 127.0.0.1:1 ssl;') +
        '}\n',
    );
    // As the daemon writes it before the first staple, then with one.
    for (const content of [NGINX_INCLUDE_OFF, nginxIncludeOn(moved(stapleFile))]) {
      await writeFile(moved(include), content);
      await writeFile(moved(stapleFile), staple);
      const r = spawnSync('nginx', ['-t', '-p', dir, '-c', conf], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${content}\n${r.stderr}`);
    }
  });
});

describe('docs/servers/haproxy.md', { skip: noHaproxy }, () => {
  it('names the socket and the folder the daemon uses, and haproxy -c takes it with a staple beside the certificate', async (t) => {
    const cfg = example('haproxy-cfg', 'docs/servers/haproxy.md').code;
    const config = daemonConfig('docs/servers/haproxy.md');
    const socket = /stats socket (\S+)/.exec(cfg)![1]!;
    const crtDir = /crt (\S+)/.exec(cfg)![1]!;
    assert.equal(config.haproxy?.socket, socket);
    assert.ok(
      config.certificates.every((g) => g.startsWith(crtDir)),
      `${config.certificates.join(', ')} under ${crtDir}`,
    );
    assert.equal(outputsOf(config, `${crtDir}site.pem`).stapleFile, `${crtDir}site.pem.ocsp`, "HAProxy's <crt>.ocsp");

    const dir = await scratch(t, 'haproxy');
    await mkdir(join(dir, 'certs'));
    await writeFile(join(dir, 'certs', 'site.pem'), fullchain(pki.leaf, pki.intermediate) + pki.leaf.keyPem);
    await writeFile(join(dir, 'certs', 'site.pem.ocsp'), staple);
    const file = join(dir, 'haproxy.cfg');
    await writeFile(file, cfg.replace(socket, join(dir, 'admin.sock')).replace(crtDir, `${dir}/certs/`).replace('bind :443', 'bind 127.0.0.1:1'));
    const r = spawnSync('haproxy', ['-c', '-f', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  });
});
