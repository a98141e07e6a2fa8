// The daemon's /probe against real nginx, HAProxy and Apache httpd, each serving four sites
// (one process, one port per site): a sound staple, an expired one, one for another serial, and
// none. For every site the probe's verdict must be what OpenSSL says: `openssl s_client -status`
// for whether a staple came, and `openssl ocsp -verify` on the staple for its verdict.
// nginx and HAProxy read staple files; Apache fetches from a responder that answers per site.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { request } from 'undici';
import { assembleDaemon } from '../../src/daemon/assemble.ts';
import { buildConfig } from '../../src/daemon/config.ts';
import { apacheConf, noApache } from '../support/apache.ts';
import { captureLogger } from '../support/log-capture.ts';
import { noNginx } from '../support/nginx.ts';
import { freePort, openssl } from '../support/openssl.ts';
import { peerSkip } from '../support/peers.ts';
import { fullchain, issue, makePki, type Issued, type TestPki } from '../support/pki.ts';
import { parseSamples } from '../support/prom-text.ts';
import { buildResponse } from '../support/responses.ts';
import { startServer } from '../support/server-process.ts';
import { handshake, opensslStatus } from '../support/tls.ts';

const noHaproxy = peerSkip('haproxy', 'openssl');
for (const [name, why] of [
  ['nginx', noNginx],
  ['HAProxy', noHaproxy],
  ['Apache', noApache],
] as const)
  if (why) console.log(`# skipping ${name}: ${why}`);

const CASES = ['sound', 'expired', 'wrong-serial', 'missing'] as const;
type Case = (typeof CASES)[number];
const HOUR = 3_600_000;

let pki: TestPki;
let dir: string;
const leaves = {} as Record<Case, Issued>;
const staples = {} as Record<Case, Buffer | null>;
let responder: Server;
let responderUrl: string;

before(async () => {
  pki = await makePki({ ocspUrl: 'http://127.0.0.1:9/ocsp' });
  dir = await mkdtemp(join(tmpdir(), 'stapler-probe-servers-'));
  await writeFile(join(dir, 'root.pem'), pki.root.pem);
  await writeFile(join(dir, 'issuer.pem'), pki.intermediate.pem);
  const now = Date.now();
  for (const c of CASES) {
    leaves[c] = await issue({ name: `${c}.test`, issuer: pki.intermediate, ocspUrls: ['http://127.0.0.1:9/ocsp'] });
    await writeFile(join(dir, `${c}.pem`), fullchain(leaves[c], pki.intermediate) + leaves[c].keyPem);
    await writeFile(join(dir, `${c}.leaf.pem`), leaves[c].pem);
    const window =
      c === 'expired'
        ? { thisUpdate: new Date(now - 48 * HOUR), nextUpdate: new Date(now - HOUR) }
        : { thisUpdate: new Date(now - 60_000), nextUpdate: new Date(now + 24 * HOUR) };
    staples[c] =
      c === 'missing'
        ? null
        : buildResponse({ cert: leaves[c], issuer: pki.intermediate, ...window, ...(c === 'wrong-serial' ? { serialHex: '0BADBADBAD' } : {}) });
  }
  // Apache's responder: each site's staple at its own path (none: HTTP 500).
  responder = createServer((req, res) => {
    req.resume();
    const bytes = staples[(req.url ?? '/').slice(1) as Case];
    if (!bytes) return void res.writeHead(500).end();
    res.writeHead(200, { 'Content-Type': 'application/ocsp-response', 'Content-Length': bytes.length }).end(bytes);
  });
  await new Promise<void>((resolve) => responder.listen(0, '127.0.0.1', resolve));
  responderUrl = `http://127.0.0.1:${(responder.address() as AddressInfo).port}`;
});
after(async () => {
  await new Promise<void>((resolve) => responder.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

type Verdict = `${string}/${string}`;

/** OpenSSL's verdict on a site: s_client says whether a staple came; `openssl ocsp` verifies the one that did. */
async function opensslVerdict(port: number, c: Case): Promise<Verdict> {
  const sclient = await opensslStatus(port, { servername: `${c}.test` });
  assert.doesNotMatch(sclient.output, /Cipher is \(NONE\)/, `s_client completed no handshake with ${c}:\n${sclient.output}`);
  if (!sclient.stapled) return 'missing/no-staple';
  const staple = (await handshake(port, { servername: `${c}.test` })).staple;
  assert.ok(staple, `s_client saw a staple for ${c}, and a second handshake did too`);
  const file = join(dir, `${c}-${port}.der`);
  await writeFile(file, staple);
  const r = await openssl(['ocsp', '-respin', file, '-issuer', 'issuer.pem', '-cert', `${c}.leaf.pem`, '-CAfile', 'root.pem', '-no_nonce'], dir);
  const out = r.stdout + r.stderr;
  assert.match(out, /Response verify OK/, out);
  if (/No Status found/i.test(out)) return 'invalid/cert-id-mismatch';
  if (/Status times invalid/i.test(out)) return 'invalid/expired';
  const status = new RegExp(`${c}\\.leaf\\.pem: (good|revoked|unknown)`).exec(out)?.[1];
  assert.ok(status, out);
  assert.equal(sclient.certStatus, status, 's_client printed the same status');
  return `valid/${status}`;
}

/** The daemon's /probe verdict on a site. */
async function probeVerdict(url: string, port: number, c: Case): Promise<Verdict> {
  const res = await request(`${url}/probe?target=${c}.test:${port}`);
  const samples = parseSamples(await res.body.text());
  const v = samples.find((s) => s.name === 'probe_ocsp_verdict' && s.value === 1);
  assert.ok(v, JSON.stringify(samples));
  return `${v.labels.verdict}/${v.labels.reason}`;
}

/** One daemon whose /probe may reach these ports on 127.0.0.1, with the sites' names resolved there. */
async function probingDaemon(t: TestContext, ports: number[]): Promise<string> {
  const ddir = join(dir, `daemon-${ports[0]}`);
  await mkdir(join(ddir, 'certs'), { recursive: true });
  const config = buildConfig(
    {
      certificates: [join(ddir, 'certs', '*.pem')],
      stateFile: join(ddir, 'state.json'),
      listen: '127.0.0.1:0',
      probe: { allow: { hosts: ['*.test'], cidrs: ['127.0.0.1/32'], ports }, ca: join(dir, 'root.pem'), timeoutMs: 5_000 },
    },
    ddir,
  );
  const { service } = assembleDaemon(config, captureLogger().logger, { probeLookup: async () => ['127.0.0.1'] });
  t.after(() => service.stop());
  await service.start();
  return `http://127.0.0.1:${service.address()!.port}`;
}

/** Every site's verdict from the probe equals OpenSSL's; returns them for the server's own expectations. */
async function compare(t: TestContext, ports: Record<Case, number>): Promise<Record<Case, Verdict>> {
  const url = await probingDaemon(t, Object.values(ports));
  const verdicts = {} as Record<Case, Verdict>;
  for (const c of CASES) {
    const [ours, theirs] = [await probeVerdict(url, ports[c], c), await opensslVerdict(ports[c], c)];
    assert.equal(ours, theirs, `${c}: the probe says ${ours}, OpenSSL says ${theirs}`);
    verdicts[c] = ours;
  }
  return verdicts;
}

async function portsFor(): Promise<Record<Case, number>> {
  const ports = {} as Record<Case, number>;
  for (const c of CASES) ports[c] = await freePort();
  return ports;
}

describe('/probe against real servers, compared with OpenSSL', () => {
  it('nginx (ssl_stapling_file, served as it is)', { skip: noNginx }, async (t) => {
    const ports = await portsFor();
    for (const c of CASES) if (staples[c]) await writeFile(join(dir, `${c}.ocsp`), staples[c]);
    await mkdir(join(dir, 'tmp'), { recursive: true });
    const servers = CASES.map(
      (c) => `  server {
    listen 127.0.0.1:${ports[c]} ssl;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_certificate ${dir}/${c}.pem;
    ssl_certificate_key ${dir}/${c}.pem;
    ${staples[c] ? `ssl_stapling on; ssl_stapling_file ${dir}/${c}.ocsp;` : ''}
    location / { return 200 "ok\\n"; }
  }`,
    );
    const conf = join(dir, 'nginx.conf');
    await writeFile(
      conf,
      `worker_processes 1;\npid ${dir}/nginx.pid;\nerror_log ${dir}/nginx.log notice;\ndaemon off;\nevents { worker_connections 64; }\nhttp {\n  access_log off;\n  client_body_temp_path ${dir}/tmp; proxy_temp_path ${dir}/tmp; fastcgi_temp_path ${dir}/tmp; uwsgi_temp_path ${dir}/tmp; scgi_temp_path ${dir}/tmp;\n${servers.join('\n')}\n}\n`,
    );
    const nginx = await startServer('nginx', ['-p', dir, '-c', conf], /start worker process/, join(dir, 'nginx.log'));
    t.after(() => nginx.stop());
    const v = await compare(t, ports);
    // nginx serves a staple file without judging it: the probe catches what it staples.
    assert.deepEqual(v, { sound: 'valid/good', expired: 'invalid/expired', 'wrong-serial': 'invalid/cert-id-mismatch', missing: 'missing/no-staple' });
  });

  it('HAProxy (a .ocsp file beside each certificate)', { skip: noHaproxy }, async (t) => {
    const ports = await portsFor();
    const hdir = join(dir, 'haproxy');
    await mkdir(hdir, { recursive: true });
    for (const c of CASES) {
      await writeFile(join(hdir, `${c}.pem`), fullchain(leaves[c], pki.intermediate) + leaves[c].keyPem);
      if (staples[c]) await writeFile(join(hdir, `${c}.pem.ocsp`), staples[c]);
    }
    const cfg = join(hdir, 'haproxy.cfg');
    await writeFile(
      cfg,
      `global\n  pidfile ${hdir}/haproxy.pid\ndefaults\n  mode http\n  timeout connect 5s\n  timeout client 5s\n  timeout server 5s\n` +
        CASES.map(
          (c) => `frontend ${c}\n  bind 127.0.0.1:${ports[c]} ssl crt ${hdir}/${c}.pem\n  http-request return status 200 content-type text/plain string ok\n`,
        ).join(''),
    );
    const haproxy = await startServer('haproxy', ['-W', '-db', '-f', cfg], () => existsSync(`${hdir}/haproxy.pid`));
    t.after(() => haproxy.stop());
    const v = await compare(t, ports);
    // HAProxy checks a .ocsp file when it loads it: it staples only the sound one.
    assert.deepEqual(v, { sound: 'valid/good', expired: 'missing/no-staple', 'wrong-serial': 'missing/no-staple', missing: 'missing/no-staple' });
  });

  it('Apache httpd (fetches from a responder: SSLStaplingForceURL per site)', { skip: noApache }, async (t) => {
    const ports = await portsFor();
    const adir = join(dir, 'apache');
    const stapling = (c: Case): string =>
      `SSLUseStapling on\nSSLStaplingForceURL ${responderUrl}/${c}\nSSLStaplingReturnResponderErrors off\nSSLStaplingFakeTryLater off\nSSLStaplingResponderTimeout 2`;
    const base = apacheConf({ dir: adir, port: ports.sound, certFile: join(dir, 'sound.pem'), stapling: stapling('sound') });
    const more = CASES.filter((c) => c !== 'sound').map(
      (c) =>
        `Listen 127.0.0.1:${ports[c]}\n<VirtualHost 127.0.0.1:${ports[c]}>\n  SSLEngine on\n  SSLCertificateFile ${dir}/${c}.pem\n  SSLCertificateKeyFile ${dir}/${c}.pem\n  ${stapling(c).replace(/\n/g, '\n  ')}\n</VirtualHost>\n`,
    );
    await mkdir(join(adir, 'run'), { recursive: true });
    await mkdir(join(adir, 'htdocs'), { recursive: true });
    await writeFile(join(adir, 'httpd.conf'), base + more.join(''));
    const apache = await startServer(existsSync('/usr/sbin/apache2') ? '/usr/sbin/apache2' : 'apache2', ['-DFOREGROUND', '-f', join(adir, 'httpd.conf')], () =>
      handshake(ports.missing, { servername: 'missing.test' }).then(
        () => true,
        () => false,
      ),
    );
    t.after(() => apache.stop());
    const v = await compare(t, ports);
    // Apache checks what it fetches: it staples only the sound response.
    assert.deepEqual(v, { sound: 'valid/good', expired: 'missing/no-staple', 'wrong-serial': 'missing/no-staple', missing: 'missing/no-staple' });
  });
});
