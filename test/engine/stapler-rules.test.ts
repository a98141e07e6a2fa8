// The engine's behaviours, Must-Staple to responder overrides (i–l, stores, handshakes), each on a fake clock with a scripted fetcher.
// The responses are real, signed ones, and the engine verifies each with the real core.

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { certificateId } from '../../src/engine/managed.ts';
import { MemoryStore } from '../../src/store/memory-store.ts';
import { DAY, HOUR, makeRig, MIN, type Rig, type RigOptions } from '../support/engine-rig.ts';
import { settle, type FakeClock } from '../support/fake-clock.ts';
import { fullchain, issue, makePki, type Issued, type TestPki } from '../support/pki.ts';
import { failure, success } from '../support/scripted-fetcher.ts';

let pki: TestPki;
before(async () => {
  pki = await makePki({ ocspUrl: 'http://127.0.0.1:9/ocsp' });
});

const rig = (options: RigOptions = {}, store = new MemoryStore(), clock?: FakeClock): Rig => makeRig(pki, options, store, clock);
const chain = (leaf: Issued): string => fullchain(leaf, pki.intermediate);

describe('i. Must-Staple', () => {
  it('is fetched first', async () => {
    const r = rig({ concurrency: 1 });
    r.fetcher.hold = true;
    await r.stapler.add(chain(pki.leaf)); // takes the only slot
    await r.stapler.add(chain(pki.rsaLeaf));
    await r.stapler.add(chain(pki.mustStapleLeaf));
    await settle();
    r.fetcher.hold = false;
    r.fetcher.release();
    await r.stapler.idle();
    assert.deepEqual(
      r.fetcher.calls.map((c) => c.certificate.serialHex),
      [pki.leaf, pki.mustStapleLeaf, pki.rsaLeaf].map((c) => c.cert.serialHex),
    );
    await r.stapler.close();
  });
  it('ready() rejects with a clear error when a Must-Staple certificate cannot be stapled in time', async () => {
    const r = rig();
    r.fetcher.script = () => failure('try-later', 'responder answered "tryLater"');
    await r.stapler.add(chain(pki.mustStapleLeaf));
    const ready = r.stapler.ready({ timeout: 5_000 });
    const settled = ready.then(
      () => 'resolved',
      (err: Error) => err.message,
    );
    await r.clock.advance(5_000);
    const message = await settled;
    assert.match(message, /Must-Staple certificate could not be stapled within 5000 ms: .*must-staple\.test.*try-later/);
    await r.stapler.close();
  });
  it('ready() rejects at once for a Must-Staple certificate that names no responder', async () => {
    const r = rig();
    const noAia = await issue({ name: 'must-staple-no-aia.test', issuer: pki.intermediate, mustStaple: true });
    await r.stapler.add(chain(noAia));
    await assert.rejects(
      r.stapler.ready({ timeout: 60_000 }),
      /Must-Staple certificate cannot be stapled: no OCSP responder, or no known issuer: .*must-staple-no-aia\.test.*no-responder/,
    );
    assert.ok(r.lines.some((l) => l.level === 'error' && /Must-Staple but names no OCSP responder/.test(l.message)));
    assert.equal(r.fetcher.calls.length, 0);
    await r.stapler.close();
  });
  it('ready() waits for Must-Staple certificates, and resolves for others at the timeout', async () => {
    const r = rig();
    r.fetcher.script = (req) => (req.certificate.mustStaple ? success(r.respond(pki.mustStapleLeaf)) : failure());
    await r.stapler.add(chain(pki.leaf));
    await r.stapler.add(chain(pki.mustStapleLeaf));
    const ready = r.stapler.ready({ timeout: 5_000 });
    await r.clock.advance(5_000);
    const report = await ready;
    assert.deepEqual(
      report.stapled.map((s) => s.serial),
      [pki.mustStapleLeaf.cert.serialHex],
    );
    assert.deepEqual(
      report.unstapled.map((s) => s.serial),
      [pki.leaf.cert.serialHex],
    );
    await r.stapler.close();
  });
  it('raises an error-level event when a Must-Staple certificate has no staple, or it will expire before the next retry', async () => {
    const r = rig();
    const risks: (number | null)[] = [];
    r.stapler.on('mustStapleAtRisk', (s) => risks.push(s.validUntil));
    r.fetcher.script = () => failure();
    await r.stapler.add(chain(pki.mustStapleLeaf));
    await settle();
    assert.deepEqual(risks, [null], 'no staple at all');
    assert.ok(r.lines.some((l) => l.level === 'error' && /Must-Staple certificate has no staple/.test(l.message)));
    // Now a staple that expires in 5 s: no retry can come before it (the floor is 10 s).
    r.fetcher.script = () =>
      success(r.respond(pki.mustStapleLeaf, { thisUpdate: new Date(r.clock.now() - HOUR), nextUpdate: new Date(r.clock.now() + 5_000) }));
    await r.stapler.refreshNow(chain(pki.mustStapleLeaf));
    assert.ok(r.stapler.stapleFor(pki.mustStapleLeaf.der));
    r.fetcher.script = () => failure();
    risks.length = 0;
    await r.stapler.refreshNow(chain(pki.mustStapleLeaf));
    assert.equal(risks.length, 1, 'the staple will expire before the next retry');
    assert.ok(risks[0]! > r.clock.now());
    await r.stapler.close();
  });
});

describe('j. renewal', () => {
  it('a renewed certificate (new serial) is fetched at once, and never gets the old staple', async () => {
    const r = rig();
    await r.stapler.add(chain(pki.leaf));
    await r.stapler.ready();
    const oldStaple = r.stapler.stapleFor(pki.leaf.der)!;
    const renewed = await issue({ name: 'leaf.test', issuer: pki.intermediate, ocspUrls: pki.leaf.cert.ocspUrls });
    r.fetcher.hold = true;
    await r.stapler.add(chain(renewed));
    await settle();
    assert.equal(r.fetcher.callsFor(renewed.cert.serialHex), 1, 'fetched at once');
    assert.equal(r.stapler.stapleFor(renewed.der), null, 'no staple until its own arrives');
    r.fetcher.script = () => success(r.respond(renewed));
    r.fetcher.release();
    await r.stapler.idle();
    const newStaple = r.stapler.stapleFor(renewed.der)!;
    assert.ok(newStaple);
    assert.notDeepEqual(newStaple, oldStaple);
    assert.deepEqual(r.stapler.stapleFor(pki.leaf.der), oldStaple);
    await r.stapler.close();
  });
});

describe('k. no nextUpdate', () => {
  it('is valid for the configured lifetime from thisUpdate (default 1 h)', async () => {
    for (const [lifetime, options] of [
      [HOUR, {}],
      [3 * HOUR, { maxAgeWithoutNextUpdateMs: 3 * HOUR }],
    ] as const) {
      const r = rig(options);
      r.fetcher.script = () => success(r.respond(pki.leaf, { nextUpdate: null }));
      await r.stapler.add(chain(pki.leaf));
      await r.stapler.ready();
      const s = r.stapler.status()[0]!;
      assert.equal(s.nextUpdate, null);
      assert.equal(s.validUntil, s.thisUpdate! + lifetime);
      await r.stapler.close();
    }
  });
});

describe('l. many certificates', () => {
  it('fetches with bounded concurrency', async () => {
    const r = rig({ concurrency: 3 });
    const leaves = await Promise.all(
      Array.from({ length: 12 }, (_, i) => issue({ name: `many-${i}.test`, issuer: pki.intermediate, ocspUrls: ['http://127.0.0.1:9/ocsp'] })),
    );
    r.fetcher.script = (req) => success(r.respond(leaves.find((l) => l.cert.serialHex === req.certificate.serialHex)));
    r.fetcher.hold = true;
    for (const leaf of leaves) await r.stapler.add(chain(leaf));
    await settle();
    assert.equal(r.fetcher.active, 3);
    while (r.fetcher.calls.length < leaves.length || r.fetcher.heldCount > 0) {
      r.fetcher.releaseOne();
      await settle();
    }
    await r.stapler.ready();
    assert.equal(r.fetcher.maxActive, 3);
    assert.equal(r.stapler.status().filter((s) => s.state === 'stapled').length, 12);
    await r.stapler.close();
  });
});

describe('stores', () => {
  it('a restart serves the stored staple at once, with no fetch while it is fresh', async () => {
    const store = new MemoryStore();
    const first = rig({}, store);
    await first.stapler.add(chain(pki.leaf));
    await first.stapler.ready();
    const staple = first.stapler.stapleFor(pki.leaf.der);
    await first.stapler.close();

    const second = rig({}, store, first.clock);
    second.fetcher.script = () => failure('fetch-network', 'responder down');
    await second.stapler.add(chain(pki.leaf));
    assert.deepEqual(second.stapler.stapleFor(pki.leaf.der), staple, 'served from the store before any fetch');
    assert.equal(second.fetcher.calls.length, 0);
    assert.equal(second.stapler.status()[0]!.source, 'store');
    await second.stapler.close();
  });
  it('a stored staple past its refresh point is served, and refreshed within the overdue spread (a restart never fetches all at once)', async () => {
    const store = new MemoryStore();
    const first = rig({}, store);
    await first.stapler.add(chain(pki.leaf));
    await first.stapler.ready();
    await first.stapler.close();
    await first.clock.advance(3 * DAY);
    const second = rig({}, store, first.clock);
    second.fetcher.script = () => failure();
    await second.stapler.add(chain(pki.leaf));
    assert.ok(second.stapler.stapleFor(pki.leaf.der), 'still valid for a day: served');
    await settle();
    assert.equal(second.fetcher.calls.length, 0, 'not at once: the rig draws 0.5, half way into the spread');
    // The floor (10 s), then 0.5 of the 15-minute spread.
    await second.clock.advance(10_000 + 0.5 * 15 * MIN - 1_000);
    assert.equal(second.fetcher.calls.length, 0);
    await second.clock.advance(2_000);
    assert.equal(second.fetcher.calls.length, 1, 'refreshed once its turn comes');
    await second.stapler.close();
  });
  const badStored: [string, (r: Rig) => Buffer][] = [
    ['corrupt', () => Buffer.from('garbage')],
    ['truncated', (r) => r.respond().subarray(0, 100)],
    ['mismatched', (r) => r.respond(pki.rsaLeaf)],
    ['expired', (r) => r.respond(pki.leaf, { thisUpdate: new Date(r.clock.now() - 3 * DAY), nextUpdate: new Date(r.clock.now() - DAY) })],
  ];
  for (const [what, make] of badStored) {
    it(`a ${what} stored staple is logged and ignored`, async () => {
      const store = new MemoryStore();
      const r = rig({}, store);
      const id = certificateId(pki.leaf.der);
      await store.save(id, make(r));
      r.fetcher.script = () => failure();
      await r.stapler.add(chain(pki.leaf));
      assert.equal(r.stapler.stapleFor(pki.leaf.der), null);
      // Retries during the outage look at the store again, but the same bad file is logged once.
      await r.clock.advance(10 * MIN);
      assert.ok(r.fetcher.calls.length >= 3);
      assert.equal(r.lines.filter((l) => l.level === 'warn' && /stored staple is not acceptable/.test(l.message)).length, 1);
      await r.stapler.close();
    });
  }
  it('a fetched staple is saved to the store', async () => {
    const store = new MemoryStore();
    const r = rig({}, store);
    const status = await r.stapler.add(chain(pki.leaf));
    await r.stapler.ready();
    assert.deepEqual(await store.load(status.id), r.stapler.stapleFor(pki.leaf.der));
    await r.stapler.close();
  });
});

describe('handshake registration', () => {
  it('a certificate never added is registered from its first handshake, which gets no staple', async () => {
    const r = rig();
    await r.stapler.add(chain(pki.leaf)); // teaches it the intermediate
    await r.stapler.ready();
    assert.equal(r.stapler.stapleFor(pki.rsaLeaf.der, null), null);
    // idle() waits for the registration under way (its issuer check runs on the thread pool), then its fetch.
    await r.stapler.idle();
    assert.equal(r.fetcher.callsFor(pki.rsaLeaf.cert.serialHex), 1);
    assert.ok(r.stapler.stapleFor(pki.rsaLeaf.der), 'the next handshake is stapled');
    await r.stapler.close();
  });
  it('uses the issuer OpenSSL passes', async () => {
    const r = rig();
    assert.equal(r.stapler.stapleFor(pki.rsaLeaf.der, pki.intermediate.der), null);
    await r.stapler.idle();
    assert.ok(r.stapler.stapleFor(pki.rsaLeaf.der));
    await r.stapler.close();
  });
});

describe('responder URL overrides', () => {
  it('a global override replaces the AIA URLs (but does not invent a responder for certificates without one)', async () => {
    const r = rig({ responderUrls: ['http://127.0.0.1:7/global'] });
    await r.stapler.add(chain(pki.leaf));
    await r.stapler.add(chain(pki.noAiaLeaf));
    await r.stapler.ready();
    assert.deepEqual(
      r.fetcher.calls.map((c) => c.urls),
      [['http://127.0.0.1:7/global']],
    );
    await r.stapler.close();
  });
  it('a per-issuer override, by subject or by fingerprint', async () => {
    const { createHash } = await import('node:crypto');
    const fingerprint = createHash('sha256').update(pki.intermediate.der).digest('hex');
    for (const key of [pki.intermediate.cert.subject, fingerprint]) {
      const r = rig({ responderUrls: ['http://127.0.0.1:7/global'], responderUrlsByIssuer: { [key]: ['http://127.0.0.1:7/issuer'] } });
      await r.stapler.add(chain(pki.leaf));
      await r.stapler.ready();
      assert.deepEqual(r.fetcher.calls[0]!.urls, ['http://127.0.0.1:7/issuer']);
      await r.stapler.close();
    }
  });
  it('per-certificate URLs win over both', async () => {
    const r = rig({ responderUrls: ['http://127.0.0.1:7/global'] });
    await r.stapler.add(chain(pki.leaf), { responderUrls: ['http://127.0.0.1:7/mine'] });
    await r.stapler.ready();
    assert.deepEqual(r.fetcher.calls[0]!.urls, ['http://127.0.0.1:7/mine']);
    await r.stapler.close();
  });
});
