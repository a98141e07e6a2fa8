// The engine's behaviours, prefetch to a hanging fetch (a–h), each on a fake clock with a scripted fetcher.
// The responses are real, signed ones, and the engine verifies each with the real core.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { certIdFor } from '../../src/ocsp/request.ts';
import { Stapler } from '../../src/node/stapler.ts';
import { MemoryStore } from '../../src/store/memory-store.ts';
import { captureLogger, DAY, HOUR, makeRig, MIN, type Rig, type RigOptions } from '../support/engine-rig.ts';
import { settle, type FakeClock } from '../support/fake-clock.ts';
import { fullchain, issue, makePki, type Issued, type TestPki } from '../support/pki.ts';
import { TestResponder } from '../support/responder.ts';
import { failure, success } from '../support/scripted-fetcher.ts';

let pki: TestPki;
before(async () => {
  pki = await makePki({ ocspUrl: 'http://127.0.0.1:9/ocsp' });
});

const rig = (options: RigOptions = {}, store = new MemoryStore(), clock?: FakeClock): Rig => makeRig(pki, options, store, clock);
const chain = (leaf: Issued): string => fullchain(leaf, pki.intermediate);

describe('a. prefetch', () => {
  it('fetches when a certificate is added, before any handshake, and ready() resolves with it stapled', async () => {
    const r = rig();
    await r.stapler.add(chain(pki.leaf));
    await settle();
    assert.equal(r.fetcher.calls.length, 1, 'the fetch starts at add()');
    const report = await r.stapler.ready();
    assert.equal(report.stapled.length, 1);
    const staple = r.stapler.stapleFor(pki.leaf.der);
    assert.ok(staple && staple.length > 0);
    assert.equal(r.stapler.status()[0]!.state, 'stapled');
    await r.stapler.close();
  });
  it('answers the first lookup after ready() with the staple', async () => {
    const r = rig();
    await r.stapler.add(chain(pki.rsaLeaf));
    await r.stapler.ready();
    assert.ok(r.stapler.stapleFor(pki.rsaLeaf.der));
    assert.equal(r.stapler.status()[0]!.counters.stapled, 1);
    await r.stapler.close();
  });
});

describe('b. on by default, quiet without a responder', () => {
  it('skips a certificate with no OCSP URL: logged once at info, no fetch, not an error', async () => {
    const r = rig();
    await r.stapler.add(chain(pki.noAiaLeaf));
    await r.stapler.add(chain(pki.noAiaLeaf));
    const report = await r.stapler.ready();
    assert.equal(report.noResponder.length, 1);
    assert.equal(r.fetcher.calls.length, 0);
    assert.equal(r.stapler.status()[0]!.state, 'no-responder');
    const about = r.lines.filter((l) => /no OCSP responder/.test(l.message));
    assert.equal(about.length, 1);
    assert.equal(about[0]!.level, 'info');
    assert.equal(r.lines.filter((l) => l.level === 'warn' || l.level === 'error').length, 0);
    await r.stapler.close();
  });
  it('needs no options: a directory store and the HTTP fetcher by default', async (t) => {
    const responder = new TestResponder();
    const url = await responder.listen();
    responder.serve(pki);
    t.after(() => responder.close());
    const dir = await mkdtemp(join(tmpdir(), 'stapler-default-'));
    let s: Stapler | undefined;
    // One hook, in this order: the Stapler (whose store is the dir) is closed, even after a failed assertion, before the dir goes.
    t.after(async () => {
      await s?.close();
      await rm(dir, { recursive: true, force: true });
    });
    process.env.STAPLER_STORE_DIR = dir;
    try {
      const { logger } = captureLogger();
      // Only the responder's address is given (the certificate's own points nowhere): no fetcher.
      s = new Stapler({ logger, responderUrls: [url] });
      assert.equal(s.storeDescription, `directory ${dir}`);
      await s.add(chain(pki.leaf));
      const report = await s.ready();
      assert.equal(report.stapled.length, 1, 'stapled by the default fetcher');
      assert.equal(responder.requestCount, 1, 'through one HTTP request to the responder');
      assert.deepEqual(responder.received[0]!.serials, [pki.leaf.cert.serialHex]);
      await s.close();
    } finally {
      delete process.env.STAPLER_STORE_DIR;
    }
  });
  it('reports a certificate whose issuer is unknown, without fetching', async () => {
    const r = rig();
    const status = await r.stapler.add(pki.leaf.pem);
    assert.equal(status.state, 'no-issuer');
    assert.equal(r.fetcher.calls.length, 0);
    assert.ok(r.lines.some((l) => l.level === 'error' && /issuer .* is not in its chain/.test(l.message)));
    await r.stapler.close();
  });
  it('refuses a CA of the issuer name with another key: in the chain, given as the issuer, or known before the real one', async () => {
    const impostor = await issue({ name: 'Stapler Test Intermediate', ca: true, issuer: pki.root });
    const r = rig();
    const status = await r.stapler.add(fullchain(pki.leaf, impostor));
    assert.equal(status.state, 'no-issuer', 'the name matches, the key does not verify the signature');
    await assert.rejects(r.stapler.add(pki.rsaLeaf.pem, { issuer: impostor.pem }), /is not the issuer of/);
    // Both CAs now known under one name: the leaf's check tries each, and takes the one whose key verifies.
    await r.stapler.add(chain(pki.mustStapleLeaf));
    const found = await r.stapler.add(pki.rsaLeaf.pem);
    assert.equal(found.state, 'pending');
    await r.stapler.ready();
    assert.ok(r.stapler.stapleFor(pki.rsaLeaf.der), 'stapled with the real issuer');
    assert.deepEqual(r.fetcher.calls.length, 3, 'the real chain completed the waiting leaf, then the two others');
    await r.stapler.close();
  });
});

describe('c. refresh', () => {
  it('refreshes at half the validity window, not before', async () => {
    const r = rig({ refresh: { jitterFraction: 0 } });
    await r.stapler.add(chain(pki.leaf));
    await r.stapler.ready();
    const thisUpdate = r.stapler.status()[0]!.thisUpdate!;
    const due = thisUpdate + 2 * DAY;
    assert.equal(r.stapler.status()[0]!.nextRefreshAt, due);
    await r.clock.advanceTo(due - 1);
    assert.equal(r.fetcher.calls.length, 1);
    await r.clock.advanceTo(due);
    assert.equal(r.fetcher.calls.length, 2);
    await r.stapler.close();
  });
  it('refreshes when Cache-Control max-age runs out first', async () => {
    const r = rig({ refresh: { jitterFraction: 0 } });
    r.fetcher.script = () => success(r.respond(), (2 * HOUR) / 1000);
    await r.stapler.add(chain(pki.leaf));
    await r.stapler.ready();
    const s = r.stapler.status()[0]!;
    assert.equal(s.nextRefreshAt, r.clock.now() + 2 * HOUR);
    assert.equal(s.nextRefreshRule, 'Cache-Control max-age');
    await r.clock.advance(2 * HOUR);
    assert.equal(r.fetcher.calls.length, 2);
    await r.stapler.close();
  });
  it('spreads certificates with jitter', async () => {
    const times: number[] = [];
    for (const rnd of [0.1, 0.9]) {
      const r = rig({ random: () => rnd });
      await r.stapler.add(chain(pki.leaf));
      await r.stapler.ready();
      times.push(r.stapler.status()[0]!.nextRefreshAt! - r.stapler.status()[0]!.thisUpdate!);
      await r.stapler.close();
    }
    assert.notEqual(times[0], times[1]);
    assert.ok(times.every((t) => t <= 2 * DAY && t >= 2 * DAY - 0.05 * 4 * DAY));
  });
});

describe('d. failure keeps the last good response', () => {
  it('keeps serving it and retries with backoff from one minute, doubling', async () => {
    const r = rig();
    await r.stapler.add(chain(pki.leaf));
    await r.stapler.ready();
    const good = r.stapler.stapleFor(pki.leaf.der)!;
    r.fetcher.script = () => failure('fetch-timeout', 'no complete response within 5000 ms');
    const failed: string[] = [];
    r.stapler.on('refreshFailed', (s) => failed.push(s.lastError!.reason));
    await r.stapler.refreshNow(chain(pki.leaf));
    assert.deepEqual(r.stapler.stapleFor(pki.leaf.der), good);
    const s = r.stapler.status()[0]!;
    assert.equal(s.state, 'stapled-refresh-failing');
    assert.equal(s.nextRefreshAt, r.clock.now() + MIN);
    await r.clock.advance(MIN);
    assert.equal(r.stapler.status()[0]!.nextRefreshAt, r.clock.now() + 2 * MIN);
    await r.clock.advance(2 * MIN);
    assert.equal(r.stapler.status()[0]!.nextRefreshAt, r.clock.now() + 4 * MIN);
    assert.deepEqual(failed, ['fetch-timeout', 'fetch-timeout', 'fetch-timeout']);
    assert.deepEqual(r.stapler.stapleFor(pki.leaf.der), good);
    assert.ok(r.lines.some((l) => l.level === 'warn' && l.fields.keeping === 'last good response'));
    await r.stapler.close();
  });
  it('caps the backoff near expiry so that several tries fit before it', async () => {
    const r = rig();
    r.fetcher.script = () => success(r.respond(pki.leaf, { nextUpdate: new Date(r.clock.now() + 3 * HOUR) }));
    await r.stapler.add(chain(pki.leaf));
    await r.stapler.ready();
    r.fetcher.script = () => failure();
    const validUntil = r.stapler.status()[0]!.validUntil!;
    await r.stapler.refreshNow(chain(pki.leaf));
    let tries = 0;
    while (r.clock.now() < validUntil) {
      const before = r.fetcher.calls.length;
      await r.clock.advanceTo(Math.min(validUntil, r.clock.nextTimer()!));
      if (r.fetcher.calls.length > before && r.clock.now() < validUntil) tries++;
    }
    assert.ok(tries >= 4, `${tries} tries before expiry`);
    await r.stapler.close();
  });
  it('a failure after a success restarts the backoff from one minute', async () => {
    const r = rig();
    r.fetcher.script = () => failure();
    await r.stapler.add(chain(pki.leaf));
    await r.clock.advance(MIN);
    await r.clock.advance(2 * MIN);
    r.fetcher.script = () => success(r.respond());
    await r.clock.advance(4 * MIN);
    assert.equal(r.stapler.status()[0]!.state, 'stapled');
    r.fetcher.script = () => failure();
    await r.stapler.refreshNow(chain(pki.leaf));
    assert.equal(r.stapler.status()[0]!.nextRefreshAt, r.clock.now() + MIN);
    await r.stapler.close();
  });
});

describe('e. expiry', () => {
  it('a timer removes the staple at nextUpdate, emits expired, and fetching goes on', async () => {
    const r = rig();
    await r.stapler.add(chain(pki.leaf));
    await r.stapler.ready();
    r.fetcher.script = () => failure('try-later', 'responder answered "tryLater"');
    const validUntil = r.stapler.status()[0]!.validUntil!;
    const expired: number[] = [];
    r.stapler.on('expired', () => expired.push(r.clock.now()));
    await r.clock.advanceTo(validUntil - 1);
    assert.ok(r.stapler.stapleFor(pki.leaf.der), 'still stapled just before');
    const fetchesBefore = r.fetcher.calls.length;
    await r.clock.advanceTo(validUntil);
    assert.deepEqual(expired, [validUntil], 'removed by the timer, at nextUpdate, with no handshake');
    assert.equal(r.stapler.stapleFor(pki.leaf.der), null);
    assert.equal(r.stapler.status()[0]!.state, 'unstapled');
    await r.clock.advance(HOUR);
    assert.ok(r.fetcher.calls.length > fetchesBefore, 'fetching goes on');
    r.fetcher.script = () => success(r.respond());
    await r.clock.advance(HOUR);
    assert.ok(r.stapler.stapleFor(pki.leaf.der), 'and the staple comes back');
    await r.stapler.close();
  });
  it('never returns an expired staple, by any path (handshake, CertID lookup, staple files), even if the timer is late', async () => {
    const r = rig();
    await r.stapler.add(chain(pki.leaf));
    await r.stapler.ready();
    const { id, validUntil } = r.stapler.status()[0]!;
    const certId = certIdFor(pki.leaf.cert, pki.intermediate.cert, 'sha1');
    r.clock.jumpTo(validUntil! - 1);
    assert.ok(r.stapler.stapleFor(pki.leaf.der), 'still valid a millisecond before');
    assert.ok(r.stapler.lookupCertId(certId)!.staple);
    assert.ok(r.stapler.stapleById(id));
    // Move the clock without running timers: each lookup itself refuses.
    r.clock.jumpTo(validUntil!);
    assert.equal(r.stapler.stapleFor(pki.leaf.der), null, 'the handshake path');
    assert.equal(r.stapler.lookupCertId(certId)!.staple, null, "the daemon's responder");
    assert.equal(r.stapler.stapleById(id), null, 'the staple files');
    await r.stapler.close();
  });
});

describe('f. never worse', () => {
  const rejects: [string, (r: Rig) => Buffer][] = [
    ['a badly signed response', (r) => r.respond(pki.leaf, { corruptSignature: true })],
    ["another certificate's response", (r) => r.respond(pki.leaf, { serialHex: 'DEADBEEF' })],
    ['an expired response', (r) => r.respond(pki.leaf, { thisUpdate: new Date(r.clock.now() - 3 * DAY), nextUpdate: new Date(r.clock.now() - DAY) })],
    ['an unknown status', (r) => r.respond(pki.leaf, { status: 'unknown' })],
  ];
  for (const [what, make] of rejects) {
    it(`${what} never replaces the acceptable one`, async () => {
      const r = rig();
      await r.stapler.add(chain(pki.leaf));
      await r.stapler.ready();
      const good = r.stapler.stapleFor(pki.leaf.der);
      // The fetcher lies (claims success): the engine verifies again and refuses.
      r.fetcher.script = () => success(make(r));
      await r.stapler.refreshNow(chain(pki.leaf));
      assert.deepEqual(r.stapler.stapleFor(pki.leaf.der), good);
      assert.equal(r.stapler.status()[0]!.consecutiveFailures, 1);
      await r.stapler.close();
    });
  }
  it('a never-stapled certificate is never stapled with a bad response', async () => {
    const r = rig();
    r.fetcher.script = () => success(r.respond(pki.leaf, { corruptSignature: true }));
    await r.stapler.add(chain(pki.leaf));
    await settle();
    assert.equal(r.stapler.stapleFor(pki.leaf.der), null);
    assert.equal(r.stapler.status()[0]!.lastError?.reason, 'bad-signature');
    await r.stapler.close();
  });
  it('an older response does not replace a newer one', async () => {
    const r = rig();
    await r.stapler.add(chain(pki.leaf));
    await r.stapler.ready();
    const current = r.stapler.status()[0]!;
    r.fetcher.script = () =>
      success(r.respond(pki.leaf, { thisUpdate: new Date(current.thisUpdate! - HOUR), nextUpdate: new Date(current.nextUpdate! + HOUR) }));
    await r.stapler.refreshNow(chain(pki.leaf));
    assert.equal(r.stapler.status()[0]!.thisUpdate, current.thisUpdate);
    await r.stapler.close();
  });
  it('a revoked response replaces the good one, is stapled, and is announced', async () => {
    const r = rig();
    await r.stapler.add(chain(pki.leaf));
    await r.stapler.ready();
    const revoked: string[] = [];
    r.stapler.on('revoked', (s) => revoked.push(s.serial));
    await r.clock.advance(10 * MIN);
    const der = r.respond(pki.leaf, { status: 'revoked', revocationReason: 1 });
    r.fetcher.script = () => success(der);
    await r.stapler.refreshNow(chain(pki.leaf));
    assert.deepEqual(r.stapler.stapleFor(pki.leaf.der), der);
    assert.equal(r.stapler.status()[0]!.certStatus, 'revoked');
    assert.deepEqual(revoked, [pki.leaf.cert.serialHex]);
    assert.ok(r.lines.some((l) => l.level === 'error' && /REVOKED/.test(l.message)));
    // A later "good" does not lift a keyCompromise revocation.
    await r.clock.advance(10 * MIN);
    r.fetcher.script = () => success(r.respond());
    await r.stapler.refreshNow(chain(pki.leaf));
    assert.equal(r.stapler.status()[0]!.certStatus, 'revoked');
    await r.stapler.close();
  });
  it('a throwing event listener cannot break the engine', async () => {
    const r = rig();
    r.stapler.on('updated', () => {
      throw new Error('listener bug');
    });
    await r.stapler.add(chain(pki.leaf));
    await r.stapler.ready();
    assert.ok(r.stapler.stapleFor(pki.leaf.der));
    assert.ok(r.lines.some((l) => /listener threw/.test(l.message)));
    await r.stapler.close();
  });
});

describe('g. single flight', () => {
  it('concurrent triggers for one certificate make one request', async () => {
    const r = rig();
    r.fetcher.hold = true;
    await r.stapler.add(chain(pki.leaf));
    const all = [r.stapler.refreshNow(chain(pki.leaf)), r.stapler.refreshNow(chain(pki.leaf)), r.stapler.ready()];
    await settle();
    assert.equal(r.fetcher.calls.length, 1);
    r.fetcher.release();
    await Promise.all(all);
    assert.equal(r.fetcher.calls.length, 1);
    await r.stapler.close();
  });
});

describe('h. a hanging fetch does not touch lookups', () => {
  it('lookups answer from memory while a fetch hangs', async () => {
    const r = rig();
    await r.stapler.add(chain(pki.leaf));
    await r.stapler.ready();
    r.fetcher.hold = true;
    void r.stapler.refreshNow(chain(pki.leaf));
    await settle();
    assert.equal(r.fetcher.heldCount, 1);
    assert.ok(r.stapler.stapleFor(pki.leaf.der), 'answered while the fetch hangs');
    await r.stapler.close();
  });
});
