// The daemon as an OCSP responder: a real daemon in-process (real certificate files, the
// TestResponder as the CA) with its HTTP listener, asked over real HTTP on 127.0.0.1.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { request } from 'undici';
import { buildConfig } from '../../src/daemon/config.ts';
import { Daemon } from '../../src/daemon/daemon.ts';
import { HttpListener } from '../../src/daemon/http/listener.ts';
import { MALFORMED_REQUEST, OCSP_LIMITS, UNAUTHORIZED, type OcspRoute, type OcspResult } from '../../src/daemon/http/ocsp-route.ts';
import { ocspRouteFor } from '../../src/daemon/http/routes.ts';
import { buildRequest, certIdFor } from '../../src/ocsp/request.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { captureLogger } from '../support/log-capture.ts';
import { fullchain, makePki, type Issued, type TestPki } from '../support/pki.ts';
import { TestResponder } from '../support/responder.ts';
import { waitFor } from '../support/wait.ts';

let pki: TestPki;
let responder: TestResponder;
let dir: string;
const open: { daemon: Daemon; listener: HttpListener }[] = [];
const { logger, lines } = captureLogger();

before(async () => {
  responder = new TestResponder();
  pki = await makePki({ ocspUrl: await responder.listen() });
  responder.serve(pki);
});
after(async () => {
  for (const o of open) {
    await o.listener.close();
    await o.daemon.stop();
  }
  await responder.close();
});
beforeEach(async () => {
  lines.length = 0;
  responder.behaviour = 'good';
  responder.now = () => Date.now();
  dir = await mkdtemp(join(tmpdir(), 'stapler-responder-'));
  await mkdir(join(dir, 'certs'));
});

interface Served {
  daemon: Daemon;
  route: OcspRoute;
  base: string;
  port: number;
  results: OcspResult[];
}

async function serve(opts: { clock?: FakeClock; certs?: Issued[] } = {}): Promise<Served> {
  for (const leaf of opts.certs ?? [pki.leaf]) await writeFile(join(dir, 'certs', `${leaf.name}.pem`), fullchain(leaf, pki.intermediate));
  const config = buildConfig(
    { certificates: [join(dir, 'certs', '*.pem')], stateFile: join(dir, 'state.json'), storeDir: join(dir, 'store'), rescanMs: 100, timeoutMs: 1_000 },
    dir,
  );
  const daemon = new Daemon(config, { logger, ...(opts.clock ? { clock: opts.clock } : {}) });
  const results: OcspResult[] = [];
  const route = ocspRouteFor(daemon, logger, (r) => results.push(r));
  const listener = new HttpListener([route], logger);
  open.push({ daemon, listener });
  await daemon.start();
  const { port } = await listener.listen({ host: '127.0.0.1', port: 0 });
  return { daemon, route, base: `http://127.0.0.1:${port}`, port, results };
}

const stapleFile = (leaf: Issued): Promise<Buffer> => readFile(join(dir, 'certs', `${leaf.name}.pem.ocsp`));
const waitStapled = (s: Served, leaf: Issued = pki.leaf): Promise<void> =>
  waitFor('a staple', () => s.daemon.stapling.status().some((c) => c.serial === leaf.cert.serialHex && c.state === 'stapled'));

function requestFor(leaf: Issued, hash: 'sha1' | 'sha256' = 'sha1', nonce?: Uint8Array): Buffer {
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
  it('answers POST and GET with the verified staple, for SHA-1 and SHA-256 CertIDs, with RFC 5019 caching headers', async () => {
    const s = await serve();
    await waitStapled(s);
    const staple = await waitFor('the staple file', () =>
      stapleFile(pki.leaf).then(
        () => true,
        () => false,
      ),
    ).then(() => stapleFile(pki.leaf));
    for (const hash of ['sha1', 'sha256'] as const) {
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
    const status = s.daemon.stapling.status()[0]!;
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
});
