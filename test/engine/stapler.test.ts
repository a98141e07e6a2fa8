// The engine's behaviours, each on a fake clock with a scripted fetcher. The responses are real,
// signed ones, and the engine verifies each with the real core.

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { StaplingEngine } from '../../src/engine/engine.ts';
import { certificateId } from '../../src/engine/managed.ts';
import { Stapler } from '../../src/node/stapler.ts';
import type { StaplerOptions } from '../../src/engine/types.ts';
import type { Logger } from '../../src/engine/logger.ts';
import { MemoryStore } from '../../src/store/memory-store.ts';
import { FakeClock, settle } from '../support/fake-clock.ts';
import { fullchain, issue, makePki, type Issued, type TestPki } from '../support/pki.ts';
import { buildResponse, type ResponseSpec } from '../support/responses.ts';
import { failure, ScriptedFetcher, success } from '../support/scripted-fetcher.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

let pki: TestPki;
before(async () => {
  pki = await makePki({ ocspUrl: 'http://127.0.0.1:9/ocsp' });
});

interface LogLine {
  level: string;
  fields: Record<string, unknown>;
  message: string;
}

function captureLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: string) => (fields: Record<string, unknown>, message: string) => void lines.push({ level, fields, message });
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

interface Rig {
  clock: FakeClock;
  fetcher: ScriptedFetcher;
  store: MemoryStore;
  stapler: StaplingEngine;
  lines: LogLine[];
  /** A signed response for `leaf`, made "now" on the fake clock. */
  respond(leaf?: Issued, over?: Partial<ResponseSpec>): Buffer;
}

function rig(options: Partial<Omit<StaplerOptions, 'store'>> = {}, store = new MemoryStore(), clock = new FakeClock(Math.floor(Date.now() / 1000) * 1000)): Rig {
  const { logger, lines } = captureLogger();
  const respond = (leaf: Issued = pki.leaf, over: Partial<ResponseSpec> = {}): Buffer =>
    buildResponse({ cert: leaf, issuer: pki.intermediate, thisUpdate: new Date(clock.now() - MIN), nextUpdate: new Date(clock.now() - MIN + 4 * DAY), ...over });
  const fetcher = new ScriptedFetcher((req) => success(respond(pki.leaf.cert.serialHex === req.certificate.serialHex ? pki.leaf : findIssued(req.certificate.serialHex))));
  const stapler = new StaplingEngine({ clock, fetcher, store, logger, random: () => 0.5, ...options });
  return { clock, fetcher, store, stapler, lines, respond };
}

function findIssued(serial: string): Issued {
  const all = Object.values(pki) as Issued[];
  return all.find((c) => c.cert.serialHex === serial)!;
}

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
  it('needs no options: a directory store and the HTTP fetcher by default', async () => {
    const dir = `/tmp/stapler-default-${process.pid}`;
    process.env.STAPLER_STORE_DIR = dir;
    try {
      const { logger } = captureLogger();
      const s = new Stapler({ logger });
      assert.equal(s.storeDescription, `directory ${dir}`);
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
    r.fetcher.script = () => success(r.respond(), 2 * HOUR / 1000);
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
  it('never returns an expired staple even if the timer is late', async () => {
    const r = rig();
    await r.stapler.add(chain(pki.leaf));
    await r.stapler.ready();
    const validUntil = r.stapler.status()[0]!.validUntil!;
    // Move the clock without running timers: the lookup itself refuses.
    (r.clock as unknown as { t: number }).t = validUntil;
    assert.equal(r.stapler.stapleFor(pki.leaf.der), null);
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
    r.fetcher.script = () => success(r.respond(pki.leaf, { thisUpdate: new Date(current.thisUpdate! - HOUR), nextUpdate: new Date(current.nextUpdate! + HOUR) }));
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
    await assert.rejects(r.stapler.ready({ timeout: 60_000 }), /Must-Staple certificate has no OCSP responder or no known issuer: .*must-staple-no-aia\.test/);
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
    assert.deepEqual(report.stapled.map((s) => s.serial), [pki.mustStapleLeaf.cert.serialHex]);
    assert.deepEqual(report.unstapled.map((s) => s.serial), [pki.leaf.cert.serialHex]);
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
    r.fetcher.script = () => success(r.respond(pki.mustStapleLeaf, { thisUpdate: new Date(r.clock.now() - HOUR), nextUpdate: new Date(r.clock.now() + 5_000) }));
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
    for (const [lifetime, options] of [[HOUR, {}], [3 * HOUR, { maxAgeWithoutNextUpdateMs: 3 * HOUR }]] as const) {
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
    const leaves = await Promise.all(Array.from({ length: 12 }, (_, i) => issue({ name: `many-${i}.test`, issuer: pki.intermediate, ocspUrls: ['http://127.0.0.1:9/ocsp'] })));
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
  it('a stored staple past its refresh point is served, and refreshed at once', async () => {
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
    assert.equal(second.fetcher.calls.length, 1, 'and refreshed at once');
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
    await settle();
    await r.stapler.idle();
    assert.equal(r.fetcher.callsFor(pki.rsaLeaf.cert.serialHex), 1);
    assert.ok(r.stapler.stapleFor(pki.rsaLeaf.der), 'the next handshake is stapled');
    await r.stapler.close();
  });
  it('uses the issuer OpenSSL passes', async () => {
    const r = rig();
    assert.equal(r.stapler.stapleFor(pki.rsaLeaf.der, pki.intermediate.der), null);
    await settle();
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
    assert.deepEqual(r.fetcher.calls.map((c) => c.urls), [['http://127.0.0.1:7/global']]);
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
