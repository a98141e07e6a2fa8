// StaplerMetrics on a real engine (fake clock, scripted fetcher): every failure reason counted,
// a removed certificate's series gone, store errors and lease contention, handshakes, and the
// application's own registry.

import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Server as TlsServer } from 'node:tls';
import { before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { certificateId } from '../../src/engine/managed.ts';
import { FAILURE_REASONS, type FetchOutcome } from '../../src/fetch/staple-fetcher.ts';
import { StaplerMetrics } from '../../src/metrics/metrics.ts';
import { InstrumentedFetcher } from '../../src/metrics/instrumented-fetcher.ts';
import { Stapler } from '../../src/node/stapler.ts';
import { MemoryStore } from '../../src/store/memory-store.ts';
import { makeRig, MIN } from '../support/engine-rig.ts';
import { FakeClock, settle } from '../support/fake-clock.ts';
import { fullchain, makePki, type Issued, type TestPki } from '../support/pki.ts';
import { parseSamples, sample } from '../support/prom-text.ts';
import { buildResponse } from '../support/responses.ts';
import { failure, ScriptedFetcher, success } from '../support/scripted-fetcher.ts';
import { silentLogger } from '../../src/engine/logger.ts';
import { TestResponder } from '../support/responder.ts';

let pki: TestPki;
before(async () => {
  pki = await makePki({ ocspUrl: 'http://127.0.0.1:9/ocsp' });
});
const chain = (leaf: Issued): string => fullchain(leaf, pki.intermediate);

/** A memory store whose operations fail while `failing` is set. */
class FlakyStore extends MemoryStore {
  failing = false;
  override async load(key: string): Promise<Buffer | null> {
    if (this.failing) throw new Error('EIO: i/o error');
    return super.load(key);
  }
}

function rigWithMetrics(store = new FlakyStore()) {
  const metrics = new StaplerMetrics();
  const clock = new FakeClock();
  let next: FetchOutcome | null = null;
  const respond = (leaf: Issued): Buffer =>
    buildResponse({ cert: leaf, issuer: pki.intermediate, thisUpdate: new Date(clock.now() - MIN), nextUpdate: new Date(clock.now() + 4 * 24 * 60 * MIN) });
  const bySerial = (serial: string): Issued => (Object.values(pki) as Issued[]).find((c) => c.cert.serialHex === serial)!;
  const scripted = new ScriptedFetcher((req) => next ?? success(respond(bySerial(req.certificate.serialHex))));
  const rig = makeRig(pki, { fetcher: metrics.instrumentFetcher(scripted) }, metrics.instrumentStore(store), clock);
  metrics.observe(rig.stapler);
  return { metrics, rig, store, setNext: (o: FetchOutcome | null) => (next = o), scrape: async () => parseSamples(await metrics.text()) };
}

describe('StaplerMetrics', () => {
  it('counts a failed refresh under each of the core reason codes', async () => {
    const { rig, setNext, scrape } = rigWithMetrics();
    await rig.stapler.add(chain(pki.leaf));
    await rig.stapler.idle();
    for (const reason of FAILURE_REASONS) {
      setNext(failure(reason, `made to fail: ${reason}`));
      await rig.stapler.refreshNow(chain(pki.leaf));
      const samples = await scrape();
      assert.equal(sample(samples, 'stapler_refresh_failures_total', { reason }), 1, reason);
    }
    const samples = await scrape();
    assert.equal(sample(samples, 'stapler_refreshes_total', { result: 'failure' }), FAILURE_REASONS.length);
    assert.equal(sample(samples, 'stapler_refreshes_total', { result: 'success' }), 1);
    assert.equal(
      sample(samples, 'stapler_refresh_consecutive_failures', { cert: `${pki.leaf.cert.subject} #${pki.leaf.cert.serialHex}` }),
      FAILURE_REASONS.length,
    );
    await rig.stapler.close();
  });

  it("drops a removed certificate's series, and never invents series for certificates it has not seen", async () => {
    const { rig, scrape } = rigWithMetrics();
    await rig.stapler.add(chain(pki.leaf));
    await rig.stapler.add(chain(pki.rsaLeaf));
    await rig.stapler.idle();
    const label = (l: Issued): string => `${l.cert.subject} #${l.cert.serialHex}`;
    let samples = await scrape();
    assert.equal(sample(samples, 'stapler_certificate_state', { cert: label(pki.rsaLeaf), state: 'stapled' }), 1);
    rig.stapler.removeById(certificateId(pki.rsaLeaf.cert.der));
    samples = await scrape();
    assert.deepEqual(
      samples.filter((s) => s.labels.cert === label(pki.rsaLeaf)),
      [],
    );
    assert.equal(sample(samples, 'stapler_certificate_state', { cert: label(pki.leaf), state: 'stapled' }), 1);
    await rig.stapler.close();
  });

  it('lets the event loop run between metric families during a scrape, and every value is still from one reading', async () => {
    const { rig, metrics, scrape } = rigWithMetrics();
    await rig.stapler.add(chain(pki.leaf));
    await rig.stapler.idle();
    // Count the event-loop turns that run while one scrape is under way.
    let turns = 0;
    let scraping = true;
    const tick = (): void => {
      turns++;
      if (scraping) setImmediate(tick);
    };
    setImmediate(tick);
    await metrics.text();
    scraping = false;
    assert.ok(turns >= 10, `the event loop ran ${turns} times during a scrape: one per per-certificate family expected`);
    const samples = await scrape();
    assert.equal(sample(samples, 'stapler_certificate_state', { cert: `${pki.leaf.cert.subject} #${pki.leaf.cert.serialHex}`, state: 'stapled' }), 1);
    await rig.stapler.close();
  });

  it('counts store errors by operation, and leases another process holds', async () => {
    const { rig, store, scrape } = rigWithMetrics();
    store.failing = true;
    await rig.stapler.add(chain(pki.leaf));
    await rig.stapler.idle();
    assert.ok(sample(await scrape(), 'stapler_store_errors_total', { operation: 'load' }) >= 1);
    store.failing = false;
    // Another process holds this certificate's lease: this one waits for its result.
    const held = await store.acquire(certificateId(pki.leaf.cert.der), 60_000);
    assert.ok(held);
    await rig.stapler.refreshNow(chain(pki.leaf));
    assert.equal(sample(await scrape(), 'stapler_store_lease_contention_total'), 1);
    await rig.stapler.close();
  });

  it('goes into the application registry it is given, beside its own metrics', async () => {
    const registry = new Registry();
    const stapler = new Stapler({ store: 'memory', fetcher: new ScriptedFetcher(() => failure()), logger: silentLogger });
    const metrics = stapler.metrics({ registry });
    assert.equal(metrics.registry, registry);
    const text = await registry.metrics();
    assert.match(text, /# TYPE stapler_refreshes_total counter/);
    assert.match(text, /# TYPE stapler_fetch_duration_seconds histogram/);
    await stapler.close();
  });

  it('counts handshakes stapled and not, from attached servers', async () => {
    const clock = new FakeClock();
    const der = buildResponse({
      cert: pki.leaf,
      issuer: pki.intermediate,
      thisUpdate: new Date(clock.now() - MIN),
      nextUpdate: new Date(clock.now() + 24 * 60 * MIN),
    });
    const stapler = new Stapler({ store: 'memory', clock, responderRatePerSecond: 0, fetcher: new ScriptedFetcher(() => success(der)), logger: silentLogger });
    const metrics = stapler.metrics();
    const server = new EventEmitter();
    stapler.attach(server as unknown as TlsServer);
    await stapler.add(chain(pki.leaf));
    await stapler.idle();
    const handshake = (cert: Buffer): Promise<Buffer | undefined> =>
      new Promise((resolve) => server.emit('OCSPRequest', cert, null, (_e: Error | null, r?: Buffer) => resolve(r)));
    assert.ok(await handshake(Buffer.from(pki.leaf.cert.der)));
    assert.ok(await handshake(Buffer.from(pki.leaf.cert.der)));
    assert.equal(await handshake(Buffer.from(pki.rsaLeaf.cert.der)), undefined);
    const samples = parseSamples(await metrics.text());
    assert.equal(sample(samples, 'stapler_handshakes_total', { outcome: 'stapled' }), 2);
    assert.equal(sample(samples, 'stapler_handshakes_total', { outcome: 'unstapled' }), 1);
    await settle();
    await stapler.close();
  });

  it('times fetches by the host of the responder that answered, or the first one asked', async () => {
    const seen: [string, number][] = [];
    let t = 1_000;
    const inner: ScriptedFetcher = new ScriptedFetcher((): FetchOutcome => {
      t += 250;
      return inner.calls.length === 1 ? success(Buffer.from([0x30, 0])) : failure();
    });
    const timed = new InstrumentedFetcher(
      inner,
      (host, seconds) => seen.push([host, seconds]),
      () => t,
    );
    const req = { urls: ['http://ocsp.one.test/', 'http://ocsp.two.test:8080/'] } as unknown as Parameters<typeof timed.fetch>[0];
    await timed.fetch(req);
    await timed.fetch(req);
    assert.deepEqual(seen, [
      ['127.0.0.1:9', 0.25],
      ['ocsp.one.test', 0.25],
    ]);
  });

  it("times the Stapler's built-in fetcher (metrics() made after the Stapler), by the responder's host", async (t) => {
    const responder = new TestResponder();
    t.after(() => responder.close());
    const ownPki = await makePki({ ocspUrl: await responder.listen() });
    responder.serve(ownPki);
    const stapler = new Stapler({ store: 'memory', logger: silentLogger, timeoutMs: 5_000 });
    t.after(() => stapler.close());
    const metrics = stapler.metrics();
    await stapler.add(fullchain(ownPki.leaf, ownPki.intermediate));
    await stapler.ready({ timeout: 10_000 });
    const host = new URL(responder.url).host;
    const samples = parseSamples(await metrics.text());
    assert.equal(sample(samples, 'stapler_fetch_duration_seconds_count', { responder: host }), 1);
  });
});
