// The daemon as an OCSP responder: a real daemon in-process (real certificate files, the
// TestResponder as the CA) with its HTTP listener, asked over real HTTP on 127.0.0.1.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { request } from 'undici';
import { buildConfig } from '../../src/daemon/config.ts';
import type { Daemon } from '../../src/daemon/daemon.ts';
import { MALFORMED_REQUEST, OCSP_LIMITS, OcspRoute, UNAUTHORIZED, type OcspResult } from '../../src/daemon/http/ocsp-route.ts';
import { RESPONDER_HANDOFF_MS } from '../../src/daemon/handoff.ts';
import { DaemonService } from '../../src/daemon/service.ts';
import { buildRequest, certIdFor } from '../../src/ocsp/request.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { freePort, openssl } from '../support/openssl.ts';
import { peerSkip } from '../support/peers.ts';
import { captureLogger } from '../support/log-capture.ts';
import { caRig } from '../support/ca-rig.ts';
import { fullchain, type Issued, type TestPki } from '../support/pki.ts';
import type { TestResponder } from '../support/responder.ts';
import { waitFor } from '../support/wait.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
let pki: TestPki;
let responder: TestResponder;
let dir: string;
const services: DaemonService[] = [];
const { logger, lines } = captureLogger();

before(async () => ({ pki, responder } = await caRig()));
after(async () => {
  for (const s of services) await s.stop();
  await responder.close();
});
beforeEach(async () => {
  lines.length = 0;
  responder.behaviour = 'good';
  responder.certIdHash = 'sha1';
  responder.now = () => Date.now();
  dir = await mkdtemp(join(tmpdir(), 'stapler-responder-'));
  await mkdir(join(dir, 'certs'));
});

interface Served {
  service: DaemonService;
  daemon: Daemon;
  route: OcspRoute;
  base: string;
  port: number;
  results: OcspResult[];
}

const configFor = (settings: Record<string, unknown> = {}) =>
  buildConfig(
    {
      certificates: [join(dir, 'certs', '*.pem')],
      stateFile: join(dir, 'state.json'),
      storeDir: join(dir, 'store'),
      rescanMs: 100,
      timeoutMs: 1_000,
      deadlineMs: 1_000,
      listen: '127.0.0.1:0',
      ...settings,
    },
    dir,
  );

async function serve(opts: { clock?: FakeClock; certs?: Issued[]; settings?: Record<string, unknown> } = {}): Promise<Served> {
  for (const leaf of opts.certs ?? [pki.leaf]) await writeFile(join(dir, 'certs', `${leaf.name}.pem`), fullchain(leaf, pki.intermediate));
  const results: OcspResult[] = [];
  const service = new DaemonService(configFor(opts.settings), { logger, ocspObserver: (r) => results.push(r), ...(opts.clock ? { clock: opts.clock } : {}) });
  services.push(service);
  await service.start();
  const { port } = service.address()!;
  const route = service.routes.find((r): r is OcspRoute => r instanceof OcspRoute)!;
  return { service, daemon: service.daemon, route, base: `http://127.0.0.1:${port}`, port, results };
}

const stapleFile = (leaf: Issued): Promise<Buffer> => readFile(join(dir, 'certs', `${leaf.name}.pem.ocsp`));
const waitStapled = (s: Served, leaf: Issued = pki.leaf): Promise<void> =>
  waitFor('a staple', () => s.daemon.engine.status().some((c) => c.serial === leaf.cert.serialHex && c.state === 'stapled'));

function requestFor(leaf: Issued, hash: 'sha1' | 'sha256' | 'sha384' = 'sha1', nonce?: Uint8Array): Buffer {
  return buildRequest(certIdFor(leaf.cert, pki.intermediate.cert, hash), nonce ? { nonce } : {});
}

async function post(url: string, body: Buffer, headers: Record<string, string> = { 'content-type': 'application/ocsp-request' }) {
  const res = await request(url, { method: 'POST', body, headers });
  return { status: res.statusCode, headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) };
}
async function get(url: string, headers: Record<string, string> = {}) {
  const res = await request(url, { headers });
  return { status: res.statusCode, headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) };
}

describe('the daemon as an OCSP responder', () => {
  it('answers POST and GET with the verified staple, with RFC 5019 caching headers', async () => {
    const s = await serve();
    await waitStapled(s);
    const staple = await waitFor('the staple file', () =>
      stapleFile(pki.leaf).then(
        () => true,
        () => false,
      ),
    ).then(() => stapleFile(pki.leaf));
    for (const hash of ['sha1'] as const) {
      const byPost = await post(`${s.base}/`, requestFor(pki.leaf, hash));
      assert.equal(byPost.status, 200);
      assert.equal(byPost.headers['content-type'], 'application/ocsp-response');
      assert.deepEqual(byPost.body, staple, `${hash} POST`);
      const b64 = encodeURIComponent(requestFor(pki.leaf, hash).toString('base64'));
      const byGet = await get(`${s.base}/ocsp/${b64}`);
      assert.equal(byGet.status, 200);
      assert.deepEqual(byGet.body, staple, `${hash} GET`);
    }
    const res = await get(`${s.base}/${encodeURIComponent(requestFor(pki.leaf).toString('base64'))}`);
    const status = s.daemon.engine.status()[0]!;
    assert.equal(res.headers['last-modified'], new Date(status.thisUpdate!).toUTCString());
    assert.equal(res.headers['expires'], new Date(status.nextUpdate!).toUTCString());
    const maxAge = Number(/max-age=(\d+), public, no-transform, must-revalidate/.exec(String(res.headers['cache-control']))![1]);
    assert.ok(maxAge > 0 && Date.now() + maxAge * 1000 <= status.nextRefreshAt! + 1000, `max-age ${maxAge} within the next refresh`);
    assert.match(String(res.headers['etag']), /^"[0-9a-f]{32}"$/);
    const again = await get(`${s.base}/x/${encodeURIComponent(requestFor(pki.leaf).toString('base64'))}`, { 'if-none-match': String(res.headers['etag']) });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
    assert.deepEqual(s.results.slice(-2), ['stapled', 'not-modified']);
  });

  it('copes with the quirks of real clients: raw base64 with "/" and "+", "+" read as a space, a doubled "/", HTTP/1.0 with Connection: close, an absolute-URI request line', async () => {
    const s = await serve();
    await waitStapled(s);
    const staple = s.daemon.engine.stapleById(s.daemon.engine.status()[0]!.id)!;
    // A request whose base64 holds both '/' and '+' (the nonce is varied until it does).
    let req = requestFor(pki.leaf);
    for (let i = 0; !/\/.*\+|\+.*\//.test(req.toString('base64')); i++) req = requestFor(pki.leaf, 'sha1', Buffer.from([i, i >> 8, 7, 9]));
    const b64 = req.toString('base64');
    const variants = {
      raw: `/ocsp/${b64}`,
      'space for +': `/ocsp/${b64.replaceAll('+', '%20')}`,
      'doubled slash': `//${encodeURIComponent(b64)}`,
      'doubled slash after a prefix': `/a/b//${b64}`,
    };
    for (const [what, path] of Object.entries(variants)) {
      const res = await get(`${s.base}${path}`);
      assert.equal(res.status, 200, what);
      assert.deepEqual(res.body, staple, what);
    }
    const http10 = await raw(s.port, `GET /${encodeURIComponent(b64)} HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    assert.match(http10.head, /^HTTP\/1\.1 200/);
    assert.match(http10.head, /connection: close/i);
    assert.deepEqual(http10.body, staple);
    const body = requestFor(pki.leaf);
    const proxy = await raw(
      s.port,
      `POST http://ocsp.example.test/some/prefix HTTP/1.0\r\nHost: ocsp.example.test\r\nContent-Type: application/ocsp-request\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
      body,
    );
    assert.match(proxy.head, /^HTTP\/1\.1 200/);
    assert.deepEqual(proxy.body, staple);
  });

  it('never serves a staple whose CertID hash differs from the request\'s: "unauthorized", counted as hash-mismatch, logged once with the fix', async () => {
    const s = await serve();
    await waitStapled(s);
    lines.length = 0;
    for (let i = 0; i < 2; i++) {
      const res = await post(`${s.base}/`, requestFor(pki.leaf, 'sha256'));
      assert.equal(res.status, 200);
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.deepEqual(res.body, UNAUTHORIZED);
    }
    assert.deepEqual(s.results.slice(-2), ['hash-mismatch', 'hash-mismatch']);
    assert.equal(s.route.counts['hash-mismatch'], 2);
    const logged = lines.filter((l) =>
      /a client asks with SHA-256 CertIDs; the staple \(from the CA\) names the certificate with SHA-1: set `hash: sha256`/.test(l.message),
    );
    assert.equal(logged.length, 1, 'once per certificate and algorithm');
    assert.equal(lines.filter((l) => /does not manage/.test(l.message)).length, 0);
    // SHA-384: not indexed, said so (not "does not manage").
    assert.deepEqual((await post(`${s.base}/`, requestFor(pki.leaf, 'sha384'))).body, UNAUTHORIZED);
    assert.equal(lines.filter((l) => /sha384 CertID: not indexed/.test(l.message)).length, 1);
  });

  it('with `hash: sha256` it fetches SHA-256 staples and serves SHA-256 requests', async () => {
    responder.certIdHash = 'sha256';
    const s = await serve({ settings: { hash: 'sha256' } });
    await waitStapled(s);
    const res = await post(`${s.base}/`, requestFor(pki.leaf, 'sha256'));
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, await stapleFile(pki.leaf));
    assert.deepEqual((await post(`${s.base}/`, requestFor(pki.leaf, 'sha1'))).body, UNAUTHORIZED);
    assert.deepEqual(s.results.slice(-2), ['stapled', 'hash-mismatch']);
  });

  it('answers a request with a nonce from the cache: the staple as is', async () => {
    const s = await serve();
    await waitStapled(s);
    const staple = s.daemon.engine.stapleById(s.daemon.engine.status()[0]!.id)!;
    const res = await post(`${s.base}/`, requestFor(pki.leaf, 'sha1', Buffer.alloc(32, 5)));
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, staple);
  });

  it('answers "unauthorized" for a CertID it does not manage, logs it once, and counts it by issuer and serial', async () => {
    const s = await serve();
    await waitStapled(s);
    lines.length = 0;
    for (let i = 0; i < 3; i++) assert.deepEqual((await post(`${s.base}/`, requestFor(pki.rsaLeaf))).body, UNAUTHORIZED);
    assert.deepEqual((await get(`${s.base}/${encodeURIComponent(requestFor(pki.rsaLeaf, 'sha256').toString('base64'))}`)).body, UNAUTHORIZED);
    const logged = lines.filter((l) => /does not manage/.test(l.message));
    assert.equal(logged.length, 2, 'one line per distinct CertID (SHA-1 and SHA-256), not one per request');
    assert.equal(logged[0]!.fields.serial, pki.rsaLeaf.cert.serialHex);
    assert.equal(logged[0]!.fields.issuerKeyHash, pki.intermediate.cert.keyHash('sha1').toString('hex'));
    const listed = s.route.unknown.list();
    assert.deepEqual(
      listed.map((u) => [u.hash, u.serial, u.count]),
      [
        ['sha1', pki.rsaLeaf.cert.serialHex, 3],
        ['sha256', pki.rsaLeaf.cert.serialHex, 1],
      ],
    );
    assert.equal(s.route.counts.unauthorized, 4);
  });

  it('answers "malformedRequest" (HTTP 200) to junk, to a request with two CertIDs, and to a GET without a request', async () => {
    const s = await serve();
    await waitStapled(s);
    const two = buildRequest([certIdFor(pki.leaf.cert, pki.intermediate.cert), certIdFor(pki.rsaLeaf.cert, pki.intermediate.cert)]);
    for (const body of [Buffer.from('hello'), two, requestFor(pki.leaf).subarray(0, 20)]) {
      const res = await post(`${s.base}/`, body);
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], 'application/ocsp-response');
      assert.deepEqual(res.body, MALFORMED_REQUEST);
    }
    for (const path of ['/', '/ocsp/not-base64', `/${encodeURIComponent(Buffer.from('MAMCAQA=', 'base64').toString('base64'))}`])
      assert.deepEqual((await get(`${s.base}${path}`)).body, MALFORMED_REQUEST, path);
    assert.equal(s.route.counts.malformed, 6);
    assert.equal((await post(`${s.base}/`, requestFor(pki.leaf), { 'content-type': 'text/plain' })).status, 415);
  });

  it('refuses a body over 10 KiB with 413 without reading it, declared or chunked, and goes on', async () => {
    const s = await serve();
    await waitStapled(s);
    const big = Buffer.alloc(OCSP_LIMITS.maxBodyBytes + 1, 0x30);
    assert.equal((await post(`${s.base}/`, big)).status, 413);
    const chunked = await raw(
      s.port,
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/ocsp-request\r\nTransfer-Encoding: chunked\r\n\r\n',
      Buffer.concat([
        Buffer.from(`${(8 * 1024).toString(16)}\r\n`),
        Buffer.alloc(8 * 1024),
        Buffer.from(`\r\n${(8 * 1024).toString(16)}\r\n`),
        Buffer.alloc(8 * 1024),
      ]),
    );
    assert.match(chunked.head, /^HTTP\/1\.1 413/);
    assert.equal((await post(`${s.base}/`, requestFor(pki.leaf))).status, 200);
    assert.equal(s.route.counts['too-large'], 2);
  });

  it('drops a client that never finishes its headers (slowloris) with 408, and keeps answering others', async () => {
    const s = await serve();
    const slow = raw(s.port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/ocsp-request\r\n', undefined, { keepOpen: true });
    assert.equal((await post(`${s.base}/`, requestFor(pki.leaf))).status, 200);
    assert.match((await slow).head, /^HTTP\/1\.1 408/);
  });

  it('answers 503 with a bounded Retry-After for a managed certificate without a staple, never a made-up answer; start() ends once the first fetch failed, not at the bound', async () => {
    responder.behaviour = 'tryLater';
    // A bound far beyond the test's own timeout: start() must end when the first fetch fails.
    const s = await serve({ settings: { deadlineMs: 300_000, timeoutMs: 1_000 } });
    assert.ok(lines.some((l) => /without a staple after their first fetch/.test(l.message)));
    for (const hash of ['sha1', 'sha256'] as const) {
      const res = await post(`${s.base}/`, requestFor(pki.leaf, hash));
      assert.equal(res.status, 503, hash);
      const retry = Number(res.headers['retry-after']);
      assert.ok(retry >= OCSP_LIMITS.minRetryAfterS && retry <= OCSP_LIMITS.maxRetryAfterS, `Retry-After ${retry}`);
      assert.notEqual(res.headers['content-type'], 'application/ocsp-response');
    }
    assert.deepEqual(s.results, ['unavailable', 'unavailable']);
  });

  it('a server started after the daemon finds the staple at once: start() resolves after the first fetch', async () => {
    const s = await serve();
    // No wait: start() resolved after the first round of fetches.
    assert.equal((await post(`${s.base}/`, requestFor(pki.leaf))).status, 200);
  });

  it('binds before it reads the certificate files: an address in use fails the start at once; until the files are read it answers 503 "starting"', async () => {
    const blocker = await serve({ settings: { stateFile: join(dir, 'state2.json') } });
    const service = new DaemonService(configFor({ listen: `127.0.0.1:${blocker.port}`, stateFile: join(dir, 'state3.json') }), { logger });
    await assert.rejects(service.start(), /cannot listen on 127\.0\.0\.1:\d+: the address is in use/);
    assert.equal(service.daemon.counts().usable, 0, 'nothing was started');
    await service.stop();
    // The CA hangs, so the first fetch is under way while the test asks.
    responder.behaviour = 'hang';
    const port = await freePort();
    const slow = new DaemonService(
      configFor({ listen: `127.0.0.1:${port}`, stateFile: join(dir, 'state4.json'), storeDir: join(dir, 'store4'), stapleFile: '{cert}.slow.ocsp' }),
      {
        logger,
      },
    );
    services.push(slow);
    const starting = slow.start();
    await waitFor('the listener', () => slow.address() !== null);
    // "starting" or "no staple yet", depending on how far the scan got: a 503 either way.
    const early = await post(`http://127.0.0.1:${port}/`, requestFor(pki.leaf));
    assert.equal(early.status, 503);
    assert.ok(Number(early.headers['retry-after']) >= 1);
    await waitFor('the certificate registered', () => slow.daemon.counts().usable === 1);
    const pending = await post(`http://127.0.0.1:${port}/`, requestFor(pki.leaf));
    assert.equal(pending.status, 503, 'known, no staple yet');
    assert.match(pending.body.toString(), /no verified OCSP response/);
    // The hanging first fetch times out (timeoutMs 1 s): start() ends with the certificate unstapled.
    await starting;
    await slow.daemon.engine.idle();
    responder.behaviour = 'good';
    await slow.daemon.engine.refreshById(slow.daemon.engine.status()[0]!.id);
    assert.equal((await post(`http://127.0.0.1:${port}/`, requestFor(pki.leaf))).status, 200);
  });

  it('stops answering with a staple the hand-off margin before it expires (fake clock), then 503 and Retry-After from the next retry', async () => {
    const clock = new FakeClock(Date.now());
    responder.now = () => clock.now();
    const s = await serve({ clock });
    await waitStapled(s);
    assert.equal((await post(`${s.base}/`, requestFor(pki.leaf))).status, 200);
    responder.behaviour = 'http-500';
    const validUntil = s.daemon.engine.status()[0]!.validUntil!;
    // A staple about to lapse is refused by the client that gets it: not handed over in its last seconds.
    await clock.advanceTo(validUntil - RESPONDER_HANDOFF_MS - 1);
    assert.equal((await post(`${s.base}/`, requestFor(pki.leaf))).status, 200, 'still valid for the margin');
    await clock.advanceTo(validUntil - RESPONDER_HANDOFF_MS);
    assert.match(s.daemon.engine.status()[0]!.state, /^stapled/, 'the engine still holds it (its refresh failing)');
    assert.equal((await post(`${s.base}/`, requestFor(pki.leaf))).status, 503, 'within the margin: not handed over');
    await clock.advanceTo(validUntil + 1);
    const status = s.daemon.engine.status()[0]!;
    assert.equal(status.state, 'unstapled');
    const res = await post(`${s.base}/`, requestFor(pki.leaf));
    assert.equal(res.status, 503);
    const expected = Math.min(OCSP_LIMITS.maxRetryAfterS, Math.max(1, Math.ceil((status.nextRefreshAt! - clock.now()) / 1000)));
    assert.equal(Number(res.headers['retry-after']), expected);
  });

  it('rebinds when a reload changes "listen"; a new address it cannot bind leaves the old one', async () => {
    const s = await serve();
    const blocker = await serve({ settings: { stateFile: join(dir, 'state2.json') } });
    const next = await freePort();
    await s.service.reconfigure(configFor({ listen: `127.0.0.1:${next}` }));
    assert.equal(s.service.address()!.port, next);
    assert.equal((await post(`http://127.0.0.1:${next}/`, requestFor(pki.leaf))).status, 200);
    await assert.rejects(post(`${s.base}/`, requestFor(pki.leaf)), /ECONNREFUSED/);
    const refused = await s.service.reconfigure(configFor({ listen: `127.0.0.1:${blocker.port}` }));
    assert.equal(s.service.address()!.port, next, 'still on the old address');
    assert.ok(lines.some((l) => l.level === 'error' && /cannot move the listener/.test(l.message)));
    assert.ok(
      refused.some((c) => /^listen \(refused: .*address is in use.*stays on 127\.0\.0\.1:\d+\)$/.test(c)),
      `the reload says the move was refused: ${refused.join(', ')}`,
    );
    // The same address again, once it is free: tried again (compared with the address in use).
    await blocker.service.stop();
    const retried = await s.service.reconfigure(configFor({ listen: `127.0.0.1:${blocker.port}` }));
    assert.deepEqual(retried, ['listen']);
    assert.equal(s.service.address()!.port, blocker.port);
  });

  it('answers openssl ocsp as a real client (GET-less POST, with and without a nonce)', { skip: peerSkip('openssl') }, async () => {
    const s = await serve();
    await waitStapled(s);
    await writeFile(join(dir, 'issuer.pem'), pki.intermediate.pem);
    await writeFile(join(dir, 'leaf.pem'), pki.leaf.pem);
    await writeFile(join(dir, 'root.pem'), pki.root.pem);
    for (const nonce of [['-no_nonce'], []]) {
      const out = await openssl(
        ['ocsp', '-url', `${s.base}/`, '-issuer', 'issuer.pem', '-cert', 'leaf.pem', '-CAfile', 'root.pem', '-timeout', '5', ...nonce],
        dir,
      );
      assert.equal(out.code, 0, out.stderr);
      assert.match(out.stdout, /leaf\.pem: good/);
      assert.match(out.stderr + out.stdout, /Response verify OK/);
    }
    const sha256 = await openssl(
      ['ocsp', '-sha256', '-url', `${s.base}/`, '-issuer', 'issuer.pem', '-cert', 'leaf.pem', '-CAfile', 'root.pem', '-timeout', '5'],
      dir,
    );
    assert.match(sha256.stdout + sha256.stderr, /Responder Error: unauthorized/);
  });

  it('answers openssl ocsp -sha256 when configured with `hash: sha256`', { skip: peerSkip('openssl') }, async () => {
    responder.certIdHash = 'sha256';
    const s = await serve({ settings: { hash: 'sha256' } });
    await waitStapled(s);
    await writeFile(join(dir, 'issuer.pem'), pki.intermediate.pem);
    await writeFile(join(dir, 'leaf.pem'), pki.leaf.pem);
    await writeFile(join(dir, 'root.pem'), pki.root.pem);
    const out = await openssl(
      ['ocsp', '-sha256', '-url', `${s.base}/`, '-issuer', 'issuer.pem', '-cert', 'leaf.pem', '-CAfile', 'root.pem', '-timeout', '5'],
      dir,
    );
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /leaf\.pem: good/);
  });
});

describe('stapler daemon --listen, as a separate process', () => {
  // From source through tsx: bin/ runs dist/, which may be older than the source under test.
  it('answers OCSP POST with the staple it fetched', async () => {
    await writeFile(join(dir, 'certs', 'site.pem'), fullchain(pki.leaf, pki.intermediate));
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'src/cli/main.ts'),
        'daemon',
        '--cert',
        join(dir, 'certs', '*.pem'),
        '--listen',
        `127.0.0.1:${port}`,
        '--store',
        join(dir, 'store'),
        '--state',
        join(dir, 'state.json'),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor('the ready line', () => /"msg":"ready: the first fetches are done"/.test(out), 30_000);
      const res = await post(`http://127.0.0.1:${port}/`, requestFor(pki.leaf));
      assert.equal(res.status, 200, out);
      await waitFor('the staple file', () =>
        readFile(join(dir, 'certs', 'site.pem.ocsp')).then(
          () => true,
          () => false,
        ),
      );
      assert.deepEqual(res.body, await readFile(join(dir, 'certs', 'site.pem.ocsp')));
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });
});

describe('stapler daemon --listen on an address in use, as a separate process', () => {
  it('exits 2 at once with one log line naming the address and the reason, and leaves nothing running', async () => {
    await writeFile(join(dir, 'certs', 'site.pem'), fullchain(pki.leaf, pki.intermediate));
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    try {
      const args = ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'daemon', '--cert', join(dir, 'certs', '*.pem'), '--listen', `127.0.0.1:${port}`];
      const child = spawn(process.execPath, [...args, '--state', join(dir, 'state.json'), '--log-format', 'json'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      assert.equal(code, 2, out);
      const line = out.split('\n').find((l) => l.includes('"msg":"cannot start"'));
      assert.ok(line, out);
      assert.match(JSON.parse(line).err as string, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: the address is in use`));
      assert.doesNotMatch(out, /unexpected error|at Server/, 'no stack trace');
    } finally {
      blocker.close();
    }
  });
});

/** A raw HTTP exchange: what the socket received until the server closed it (bounded). */
function raw(port: number, head: string, body: Buffer = Buffer.alloc(0), opts: { keepOpen?: boolean } = {}): Promise<{ head: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(new Error('no close within 10 s')), 10_000);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', (err) => (chunks.length > 0 ? undefined : reject(err)));
    socket.on('close', () => {
      clearTimeout(timer);
      const all = Buffer.concat(chunks);
      const at = all.indexOf('\r\n\r\n');
      resolve({ head: all.subarray(0, at).toString('latin1'), body: all.subarray(at + 4) });
    });
    socket.write(head);
    // keepOpen: send no more and wait for the server to close (a client that stalls).
    if (opts.keepOpen) socket.write(body);
    else socket.end(body);
  });
}
