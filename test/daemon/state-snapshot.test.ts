// The HTTP views' state (/healthz, /status, /status.json) at many files: built in slices that
// yield to the event loop, shared by concurrent requests, reused only while younger than 10× its
// build time, and /status.json streamed the same way.

import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { sendStateJson } from '../../src/daemon/http/state-json.ts';
import { MAX_REUSE_MS, StateSnapshot, type SnapshotSource } from '../../src/daemon/http/state-snapshot.ts';
import type { DaemonCounters, DaemonState, FileState } from '../../src/daemon/state.ts';

const counters: DaemonCounters = {
  pid: 1,
  startedAt: '2026-12-05T00:00:00.000Z',
  updatedAt: '2026-12-05T00:00:01.000Z',
  certificates: 0,
  unusable: 0,
  reloads: 0,
  reloadFailures: 0,
  configReloads: 0,
  configReloadsRefused: 0,
};

function file(i: number, state = 'stapled'): FileState {
  return {
    file: `/certs/site-${i}.pem`,
    stapleFile: `/certs/site-${i}.pem.ocsp`,
    stapleWritten: true,
    subject: `CN=site-${i}`,
    serial: i.toString(16),
    state,
    certStatus: 'good',
    mustStaple: false,
    thisUpdate: null,
    nextUpdate: null,
    validUntil: null,
    nextRefreshAt: null,
    lastError: null,
    failures: 0,
    verdict: 'OK',
    summary: 'stapled',
    serving: true,
    atRisk: false,
    problems: [],
    outputs: [],
  };
}

/** A source of `n` files whose reads are counted, and whose state can be changed. */
function source(n: number, whileRead = (): void => undefined): SnapshotSource & { reads: number; state: string } {
  const s = {
    reads: 0,
    state: 'stapled',
    counters: () => counters,
    *fileStates() {
      s.reads++;
      whileRead();
      for (let i = 0; i < n; i++) yield file(i, s.state);
    },
  };
  return s;
}

describe("the HTTP views' state snapshot", () => {
  it('yields to the event loop between slices: other work runs while 2,000 files are read', async () => {
    const snap = new StateSnapshot(source(2_000), () => 0, 500);
    let immediates = 0;
    const tick = (): void => void setImmediate(() => (immediates++, immediates < 100 && tick()));
    tick();
    const state = await snap.get();
    assert.equal(state.files.length, 2_000);
    assert.ok(immediates >= 3, `other work ran ${immediates} time(s) during the build (4 slices)`);
  });

  it('concurrent requests share one build', async () => {
    const src = source(1_200);
    const snap = new StateSnapshot(src, () => 0, 100);
    const [a, b, c] = await Promise.all([snap.get(), snap.get(), snap.get()]);
    assert.equal(src.reads, 1);
    assert.equal(a, b);
    assert.equal(b, c);
  });

  it('with an instant build every request sees the state of its own moment', async () => {
    const src = source(3);
    const snap = new StateSnapshot(src, () => 1_000);
    assert.equal((await snap.get()).files[0]!.state, 'stapled');
    src.state = 'unstapled';
    assert.equal((await snap.get()).files[0]!.state, 'unstapled');
    assert.equal(src.reads, 2);
  });

  it('a build that took 200 ms is reused for 2 s (10×), then built again', async () => {
    let now = 0;
    const src = source(3, () => (now += 200));
    const snap = new StateSnapshot(src, () => now);
    await snap.get();
    const built = now;
    src.state = 'unstapled';
    now = built + 1_999;
    assert.equal((await snap.get()).files[0]!.state, 'stapled', 'reused within 10× the build time');
    assert.equal(src.reads, 1);
    now = built + 2_000;
    assert.equal((await snap.get()).files[0]!.state, 'unstapled', 'built again after it');
    assert.equal(src.reads, 2);
  });

  it(`however slow a build, it is reused for at most ${MAX_REUSE_MS / 1000} s`, async () => {
    let now = 0;
    // 60 s to read the files: 10× would be 10 minutes.
    const src = source(1, () => (now += 60_000));
    const snap = new StateSnapshot(src, () => now);
    await snap.get();
    now += MAX_REUSE_MS - 1;
    await snap.get();
    assert.equal(src.reads, 1);
    now += 1;
    await snap.get();
    assert.equal(src.reads, 2);
  });
});

async function serve(state: DaemonState, extra: Record<string, unknown>): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => void sendStateJson(req, res, state, extra));
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { server, port: (server.address() as AddressInfo).port };
}

function get(port: number, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/status.json', method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('/status.json, streamed', () => {
  for (const n of [0, 1, 1_234]) {
    it(`${n} file(s): the body is the state as JSON, with the extra keys after the files`, async (t) => {
      const state: DaemonState = { ...counters, certificates: n, files: Array.from({ length: n }, (_, i) => file(i)) };
      const extra = { ocspResponder: { counts: { ok: 3 }, unmanaged: [{ serial: 'ab' }], unmanagedUntracked: 0 } };
      const { server, port } = await serve(state, extra);
      t.after(() => server.close());
      const res = await get(port);
      assert.equal(res.status, 200);
      assert.match(res.type, /^application\/json/);
      assert.deepEqual(JSON.parse(res.body), { ...state, ...extra });
      assert.deepEqual(Object.keys(JSON.parse(res.body) as object).slice(-2), ['files', 'ocspResponder']);
    });
  }

  it('HEAD: the headers, no body', async (t) => {
    const { server, port } = await serve({ ...counters, files: [file(1)] }, {});
    t.after(() => server.close());
    const res = await get(port, 'HEAD');
    assert.equal(res.status, 200);
    assert.equal(res.body, '');
  });

  it('a client that goes away mid-body stops the writing (the server goes on)', async (t) => {
    const state: DaemonState = { ...counters, files: Array.from({ length: 50_000 }, (_, i) => file(i)) };
    const sending: Promise<void>[] = [];
    const server = createServer((req, res) => void sending.push(sendStateJson(req, res, state)));
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    t.after(() => server.close());
    const port = (server.address() as AddressInfo).port;
    let received = 0;
    await new Promise<void>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/status.json' }, (res) => {
        res.pause();
        res.once('readable', () => {
          received = res.read()?.length ?? 0;
          req.destroy();
          resolve();
        });
      });
      req.end();
    });
    await Promise.all(sending);
    assert.ok(received > 0 && received < 5_000_000, `the client read ${received} bytes of about 25 MB before it left`);
    const after = await get(port, 'HEAD');
    assert.equal(after.status, 200);
  });
});
