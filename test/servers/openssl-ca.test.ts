// A CA we did not write: `openssl ocsp -index` as the certificate's OCSP responder, with real
// nginx fed staple files by the daemon and real Apache httpd pointed at the daemon's responder,
// both serving the same certificate from one daemon. Every staple the servers get was signed by
// openssl. The CA healthy, killed, SIGSTOPped, lying (signed by another CA's key; an answer for
// another serial; "unknown" from its index), revoked through its index (stapled: it is the
// truth), and its response reaching nextUpdate while it is down (openssl runs with libfaketime
// 50 s behind, so a 1-minute response ends within seconds).

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it, type TestContext } from 'node:test';
import { RESPONDER_HANDOFF_MS } from '../../src/daemon/handoff.ts';
import { buildConfig } from '../../src/daemon/config.ts';
import type { Daemon } from '../../src/daemon/daemon.ts';
import { DaemonService } from '../../src/daemon/service.ts';
import { silentLogger } from '../../src/engine/logger.ts';
import { buildRequest, certIdFor } from '../../src/ocsp/request.ts';
import { verifyResponse } from '../../src/ocsp/verify.ts';
import { startApache, staplingDirectives } from '../support/apache.ts';
import { startNginx } from '../support/nginx.ts';
import { freePort, startOpensslResponder, type OpensslResponder } from '../support/openssl.ts';
import { sleep, stapledSerial, waitUntilUnstapledAtExpiry, SECOND } from '../support/peer-rig.ts';
import { peerSkip } from '../support/peers.ts';
import { fullchain, issue, makePki, type Issued, type TestPki } from '../support/pki.ts';
import { handshake, opensslStatus } from '../support/tls.ts';
import { waitFor } from '../support/wait.ts';

const skip = peerSkip('openssl', 'nginx', 'apache2', 'faketime');
if (skip) console.log(`# skipping openssl ocsp as the CA: ${skip}`);

let pki: TestPki;
before(async () => {
  if (!skip) pki = await makePki({ ocspUrl: 'http://127.0.0.1:1/unused' });
});

const EXPIRY = '301231235959Z';
const indexLine = (leaf: Issued, status: 'V' | 'R' = 'V'): string =>
  `${status}\t${EXPIRY}\t${status === 'R' ? '251121120000Z,keyCompromise' : ''}\t${leaf.cert.serialHex}\tunknown\t/CN=${leaf.name}`;

/** One test's world: a dir, its CA port, a leaf naming that port, and what it starts (stopped in reverse). */
interface Site {
  readonly dir: string;
  readonly caPort: number;
  readonly leaf: Issued;
  readonly certFile: string;
  /** Stopped in reverse order by the test's after-hook; the dir is removed last. */
  readonly cleanups: (() => Promise<unknown> | void)[];
}

async function site(t: TestContext, name: string): Promise<Site> {
  const dir = await mkdtemp(join(tmpdir(), `stapler-openssl-ca-${name}-`));
  const cleanups: Site['cleanups'] = [() => rm(dir, { recursive: true, force: true })];
  // One hook that stops everything in reverse, so the dir goes only after the processes using it.
  t.after(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  const caPort = await freePort();
  const leaf = await issue({ name: 'leaf.test', issuer: pki.intermediate, ocspUrls: [`http://127.0.0.1:${caPort}/`] });
  await mkdir(join(dir, 'certs'));
  const certFile = join(dir, 'certs', 'site.pem');
  await writeFile(certFile, fullchain(leaf, pki.intermediate) + leaf.keyPem);
  await writeFile(join(dir, 'root.pem'), pki.root.pem);
  await writeFile(join(dir, 'trusted.pem'), pki.intermediate.pem + pki.root.pem);
  for (const [file, c] of [
    ['intermediate', pki.intermediate],
    ['foreign', pki.foreignResponder],
  ] as const) {
    await writeFile(join(dir, `${file}.pem`), c.pem);
    await writeFile(join(dir, `${file}.key`), c.keyPem);
  }
  await writeFile(join(dir, 'index.txt'), `${indexLine(leaf)}\n`);
  await writeFile(join(dir, 'empty-index.txt'), '');
  return { dir, caPort, leaf, certFile, cleanups };
}

/** `openssl ocsp` answering for the intermediate, signed by `signer` ("intermediate", or "foreign": another CA's key). */
async function ca(
  s: Site,
  o: { signer?: 'intermediate' | 'foreign'; index?: string; port?: number; minutes?: number; clockOffset?: string } = {},
): Promise<OpensslResponder> {
  const signer = o.signer ?? 'intermediate';
  const r = await startOpensslResponder({
    cwd: s.dir,
    index: o.index ?? 'index.txt',
    ca: 'intermediate.pem',
    rsigner: `${signer}.pem`,
    rkey: `${signer}.key`,
    port: o.port ?? s.caPort,
    ...(o.minutes !== undefined ? { minutes: o.minutes } : {}),
    ...(o.clockOffset !== undefined ? { clockOffset: o.clockOffset } : {}),
  });
  s.cleanups.push(async () => {
    r.process.kill('SIGCONT'); // a stopped openssl handles SIGTERM only once it runs again
    await r.stop();
  });
  return r;
}

/** The daemon as `stapler daemon` runs it: nginx includes and reload, and its OCSP responder for Apache. */
async function daemon(s: Site, nginxPort: number, settings: Record<string, unknown> = {}): Promise<{ daemon: Daemon; url: string }> {
  const listen = await freePort();
  const conf = join(s.dir, `nginx-${nginxPort}.conf`);
  const config = buildConfig(
    {
      certificates: [join(s.dir, 'certs', '*.pem')],
      stateFile: join(s.dir, 'state.json'),
      storeDir: join(s.dir, 'store'),
      listen: `127.0.0.1:${listen}`,
      nginxInclude: '{cert}.stapling.conf',
      reload: { command: `test -e ${s.dir}/nginx-${nginxPort}.pid && nginx -p ${s.dir} -c ${conf} -s reload`, debounceMs: 50 },
      responderRatePerSecond: 0,
      timeoutMs: 1_000,
      deadlineMs: 2_000,
      ...settings,
    },
    s.dir,
  );
  const service = new DaemonService(config, { logger: silentLogger });
  s.cleanups.push(() => service.stop());
  await service.start(); // its first fetches have ended (the order of docs/daemon.md: the daemon first)
  return { daemon: service.daemon, url: `http://127.0.0.1:${listen}/` };
}

/** nginx including the daemon's file, and Apache asking the daemon's responder (1 s caches, so it re-asks). */
async function servers(s: Site, nginxPort: number, url: string): Promise<{ nginx: number; apache: number }> {
  const nginx = await startNginx({ dir: s.dir, port: nginxPort, certFile: s.certFile, stapling: `include ${s.certFile}.stapling.conf;` });
  s.cleanups.push(() => nginx.stop());
  const apachePort = await freePort();
  const apache = await startApache({
    dir: s.dir,
    port: apachePort,
    certFile: s.certFile,
    stapling: staplingDirectives({ responderUrl: url, standardCacheTimeout: 1, errorCacheTimeout: 1 }),
  });
  s.cleanups.push(() => apache.stop());
  return { nginx: nginxPort, apache: apachePort };
}

const stapleFile = (s: Site): string => `${s.certFile}.ocsp`;
const fileState = (d: Daemon): ReturnType<Daemon['state']>['files'][number] => d.state().files[0]!;

/** Both servers staple exactly `staple` (the bytes openssl signed, which the daemon wrote), good, for the leaf. */
async function bothStaple(s: Site, ports: { nginx: number; apache: number }, staple: Buffer, what: string): Promise<void> {
  for (const [server, port] of Object.entries(ports)) {
    const status = await opensslStatus(port);
    assert.equal(status.certStatus, 'good', `${server}, ${what}: ${status.output}`);
    assert.equal(stapledSerial(status), s.leaf.cert.serialHex, `${server}, ${what}`);
    const h = await handshake(port, { tls: '1.2' });
    assert.ok(h.staple?.equals(staple), `${server}, ${what}: the staple is the one openssl signed`);
  }
}

async function neitherStaples(ports: { nginx: number; apache: number }, what: string): Promise<void> {
  for (const [server, port] of Object.entries(ports)) {
    for (let i = 0; i < 2; i++) {
      const status = await opensslStatus(port);
      assert.equal(status.stapled, false, `${server}, ${what}: ${status.output}`);
    }
  }
}

/** Never a hang: a refresh ends within the daemon's own fetch deadline (the limit turns a hang into a failure). */
async function refreshBounded(d: Daemon, what: string): Promise<void> {
  let done = false;
  const refreshing = d.refreshAll().finally(() => (done = true));
  await waitFor(`the refresh to end (${what})`, () => done, 15 * SECOND);
  await refreshing;
}

describe('openssl ocsp as the CA, for nginx (staple files) and Apache (the daemon responder)', { skip }, () => {
  it('staples what openssl signs, and keeps it while the CA is SIGSTOPped (bounded) and then killed', async (t) => {
    const s = await site(t, 'outage');
    const responder = await ca(s);
    const nginxPort = await freePort();
    const { daemon: d, url } = await daemon(s, nginxPort, { timeoutMs: 5_000, deadlineMs: 5_000 });
    await waitFor(
      'the staple file and the include, on',
      async () => existsSync(stapleFile(s)) && /ssl_stapling on/.test(await readFile(`${s.certFile}.stapling.conf`, 'utf8')),
    );
    const staple = await readFile(stapleFile(s));
    assert.ok(verifyResponse(staple, { certificate: s.leaf.cert, issuer: pki.intermediate.cert, now: Date.now() }).ok);
    const ports = await servers(s, nginxPort, url);
    await bothStaple(s, ports, staple, 'healthy');

    // Hanging: openssl is stopped and its listen backlog takes the connection. Handshakes go on
    // stapled while the daemon's fetch hangs, and the fetch gives up at the daemon's deadline.
    responder.process.kill('SIGSTOP');
    let ended = false;
    const refreshing = d.refreshAll().finally(() => (ended = true));
    for (const [server, port] of Object.entries(ports)) {
      const status = await opensslStatus(port);
      assert.equal(status.certStatus, 'good', `${server}, CA hanging: ${status.output}`);
      assert.equal(ended, false, `${server}: the handshake ended before the hanging fetch did (it did not wait for the CA)`);
    }
    await waitFor('the refresh to give up on the hanging CA', () => ended, 15 * SECOND);
    await refreshing;
    assert.match(fileState(d).lastError ?? '', /^fetch-timeout: .*within 5000 ms/, 'the refresh gave up on the hang');
    assert.ok((await readFile(stapleFile(s))).equals(staple), 'the staple kept through the hang');
    await sleep(1.2 * SECOND); // past Apache's 1 s cache: it asks the daemon again
    await bothStaple(s, ports, staple, 'after the hang');

    // Down: killed (a stopped process takes SIGKILL too).
    responder.process.kill('SIGKILL');
    await waitFor('openssl to exit', () => responder.process.exitCode !== null || responder.process.signalCode !== null);
    await refreshBounded(d, 'CA down');
    assert.match(fileState(d).lastError ?? '', /^fetch-network: .*ECONNREFUSED/, 'the refresh failed on the outage');
    assert.ok((await readFile(stapleFile(s))).equals(staple), 'the staple kept through the outage');
    await sleep(1.2 * SECOND);
    await bothStaple(s, ports, staple, 'CA down');
  });

  it('never staples a response signed by another CA, one for another serial, or "unknown" from its index; staples once it answers well, and staples "revoked" from its index', async (t) => {
    const s = await site(t, 'lying');
    // Signed by the foreign responder's key (another CA's, though it has the OCSP-signing EKU).
    const liar = await ca(s, { signer: 'foreign' });
    const nginxPort = await freePort();
    const { daemon: d, url } = await daemon(s, nginxPort);
    assert.match(fileState(d).lastError ?? '', /^unauthorized-signer: .*Foreign OCSP Responder/, 'the daemon asked the lying CA and refused its answer');
    assert.equal(existsSync(stapleFile(s)), false);
    const ports = await servers(s, nginxPort, url);
    await neitherStaples(ports, 'signed by another CA');

    // Another serial: a relay in front of an honest openssl asks it about another certificate
    // of the same CA, and passes back openssl's answer, signed and valid, but not for our leaf.
    await liar.stop();
    const other = await issue({ name: 'other.test', issuer: pki.intermediate, ocspUrls: [`http://127.0.0.1:${s.caPort}/`] });
    await writeFile(join(s.dir, 'index.txt'), `${indexLine(s.leaf)}\n${indexLine(other)}\n`);
    const honestPort = await freePort();
    const honest = await ca(s, { port: honestPort });
    // "unknown": an openssl whose index does not list the leaf.
    const unlisting = await ca(s, { port: await freePort(), index: 'empty-index.txt' });
    // "revoked": an openssl whose index lists the leaf as revoked (keyCompromise).
    await writeFile(join(s.dir, 'revoked-index.txt'), `${indexLine(s.leaf, 'R')}\n`);
    const revoking = await ca(s, { port: await freePort(), index: 'revoked-index.txt' });
    let mode: 'other-serial' | 'unknown' | 'pass' | 'revoked' = 'other-serial';
    const otherRequest = buildRequest(certIdFor(other.cert, pki.intermediate.cert));
    const relay = await startRelay(s.caPort, (body) =>
      mode === 'other-serial' ? post(honest.url, otherRequest) : post({ unknown: unlisting.url, revoked: revoking.url, pass: honest.url }[mode], body),
    );
    s.cleanups.push(() => new Promise<void>((resolve) => relay.close(() => resolve())));
    for (const lie of ['other-serial', 'unknown'] as const) {
      mode = lie;
      const failures = fileState(d).failures;
      await refreshBounded(d, lie);
      assert.ok(fileState(d).failures > failures, `the daemon asked and refused (${lie})`);
      assert.match(fileState(d).lastError ?? '', lie === 'unknown' ? /^status-unknown: / : new RegExp(`^cert-id-mismatch: .*covers: ${other.cert.serialHex}`));
      assert.equal(existsSync(stapleFile(s)), false, lie);
      await sleep(1.2 * SECOND); // past Apache's error cache
      await neitherStaples(ports, lie);
    }

    // The control: the same relay passes the daemon's own request through to the honest openssl.
    mode = 'pass';
    await refreshBounded(d, 'honest');
    await waitFor('the staple file', () => existsSync(stapleFile(s)));
    const staple = await readFile(stapleFile(s));
    await waitFor('nginx reloaded with the staple', async () => (await handshake(ports.nginx, { tls: '1.2' })).staple?.equals(staple) === true);
    await sleep(1.2 * SECOND);
    await bothStaple(s, ports, staple, 'honest CA');

    // Revoked, signed by openssl: the truth, so it replaces the good staple, and both servers
    // staple it (a client then refuses the certificate, as it should).
    mode = 'revoked';
    await refreshBounded(d, 'revoked');
    assert.equal(fileState(d).certStatus, 'revoked');
    assert.equal(fileState(d).verdict, 'CRITICAL');
    const revoked = await readFile(stapleFile(s));
    assert.ok(!revoked.equals(staple), 'the staple file holds the revoked response');
    await waitFor('nginx reloaded with the revoked staple', async () => (await handshake(ports.nginx, { tls: '1.2' })).staple?.equals(revoked) === true);
    await sleep(1.2 * SECOND); // past Apache's cache
    for (const [server, port] of Object.entries(ports)) {
      const status = await opensslStatus(port);
      assert.equal(status.certStatus, 'revoked', `${server}: ${status.output}`);
      assert.match(status.output, /Reason: keyCompromise/, server);
      assert.ok((await handshake(port, { tls: '1.2' })).staple?.equals(revoked), `${server}: the staple is the one openssl signed`);
    }
  });

  it('with the CA down, stops stapling once the response reaches nextUpdate, and never staples it past that', async (t) => {
    const s = await site(t, 'expiry');
    // thisUpdate 50 s back, nextUpdate (-nmin 1) 10 s ahead: a real response, reaching its end soon.
    const responder = await ca(s, { minutes: 1, clockOffset: '-50s' });
    const nginxPort = await freePort();
    const { daemon: d, url } = await daemon(s, nginxPort, { skewMs: 0 });
    await waitFor('the staple file', () => existsSync(stapleFile(s)));
    await responder.stop(); // before the daemon's next refresh could extend it
    await refreshBounded(d, 'CA down'); // and any refresh in flight has ended
    const staple = await readFile(stapleFile(s));
    const nextUpdate = Date.parse(fileState(d).nextUpdate!);
    assert.ok(nextUpdate - Date.now() < 15 * SECOND, `nextUpdate is near: ${fileState(d).nextUpdate}`);
    const ports = await servers(s, nginxPort, url);
    await bothStaple(s, ports, staple, 'before nextUpdate');
    await Promise.all([waitUntilUnstapledAtExpiry(ports.nginx, 'nginx'), waitUntilUnstapledAtExpiry(ports.apache, 'Apache')]);
    assert.equal(existsSync(stapleFile(s)), false, 'the staple file is gone');
    // Apache, the later of the two, loses it no sooner than the responder's hand-off margin allows.
    assert.ok(Date.now() >= nextUpdate - RESPONDER_HANDOFF_MS - SECOND, 'not dropped early');
    await neitherStaples(ports, 'past nextUpdate');
  });
});

/** An HTTP server on the CA's port that answers each OCSP request with `answer(request body)`. */
async function startRelay(port: number, answer: (body: Buffer) => Promise<Buffer>): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      // The daemon POSTs or GETs (base64 in the path); openssl takes a POST either way.
      const body = req.method === 'POST' ? Buffer.concat(chunks) : Buffer.from(decodeURIComponent((req.url ?? '/').slice(1)), 'base64');
      answer(body).then(
        (der) => res.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(der),
        () => res.writeHead(502).end(),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}

function post(url: string, body: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks)));
    });
    req.on('error', reject);
    req.end(body);
  });
}
