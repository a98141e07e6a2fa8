// engine.reconfigure(): new settings in place. Staples held stay served with no gap, timers are
// planned again under the new policy, a new store is adopted without dropping what is held, and
// replaced parts are closed once idle.

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { certificateId } from '../../src/engine/managed.ts';
import { MemoryStore } from '../../src/store/memory-store.ts';
import { DAY, HOUR, makeRig, MIN } from '../support/engine-rig.ts';
import { settle } from '../support/fake-clock.ts';
import { fullchain, issue, makePki, type TestPki } from '../support/pki.ts';
import { ScriptedFetcher, success } from '../support/scripted-fetcher.ts';

let pki: TestPki;
before(async () => {
  pki = await makePki({ ocspUrl: 'http://127.0.0.1:9/ocsp' });
});

describe('engine.reconfigure()', () => {
  it('keeps every staple served through the change, and answers lookups throughout', async () => {
    const r = makeRig(pki);
    await r.stapler.add(fullchain(pki.leaf, pki.intermediate));
    await r.stapler.idle();
    const id = certificateId(pki.leaf.cert.der);
    const held = r.stapler.stapleById(id)!;
    assert.ok(held);
    for (let i = 0; i < 50; i++) {
      r.stapler.reconfigure({ timeoutMs: 1_000 + i, refresh: { refreshFraction: i % 2 ? 0.5 : 0.6 } });
      assert.deepEqual(r.stapler.stapleById(id), held, `after reconfigure ${i}`);
      assert.equal(r.stapler.status()[0]!.state, 'stapled');
    }
    await settle();
    assert.equal(r.fetcher.calls.length, 1, 'no fetch for a settings change');
    await r.stapler.close();
  });

  it('plans the next refresh again under a new refresh policy', async () => {
    const r = makeRig(pki);
    await r.stapler.add(fullchain(pki.leaf, pki.intermediate));
    await r.stapler.idle();
    const before = r.stapler.status()[0]!.nextRefreshAt!;
    // 4-day window from thisUpdate: 0.5 → about 2 days in, 0.9 → about 3.6 days in.
    r.stapler.reconfigure({ refresh: { refreshFraction: 0.9 } });
    const after = r.stapler.status()[0]!.nextRefreshAt!;
    assert.ok(after - before > DAY, `moved later: ${new Date(before).toISOString()} → ${new Date(after).toISOString()}`);
    // The old timer is gone: nothing is fetched at the old time.
    await r.clock.advanceTo(before + MIN);
    assert.equal(r.fetcher.calls.length, 1);
    await r.clock.advanceTo(after + MIN);
    await r.stapler.idle();
    assert.equal(r.fetcher.calls.length, 2, 'fetched at the new time');
    await r.stapler.close();
  });

  it('adopts a new store: saves the staples held into it, keeps serving them, and closes the old store once idle', async () => {
    const r = makeRig(pki);
    await r.stapler.add(fullchain(pki.leaf, pki.intermediate));
    await r.stapler.idle();
    const id = certificateId(pki.leaf.cert.der);
    const held = r.stapler.stapleById(id)!;
    let oldClosed = false;
    const close = r.store.close.bind(r.store);
    r.store.close = () => ((oldClosed = true), close());
    const next = new MemoryStore({ now: () => r.clock.now() });
    r.stapler.reconfigure({ store: next });
    assert.deepEqual(r.stapler.stapleById(id), held, 'served through the change');
    await settle();
    assert.deepEqual(await next.load(id), held, 'the held staple is saved into the new store');
    assert.ok(oldClosed, 'the old store is closed');
    assert.equal(r.fetcher.calls.length, 1, 'no fetch');
    await r.stapler.close();
  });

  it('takes a newer verified staple from the new store, and refuses a bad one there', async () => {
    const r = makeRig(pki);
    await r.stapler.add(fullchain(pki.leaf, pki.intermediate));
    await r.stapler.idle();
    const id = certificateId(pki.leaf.cert.der);
    await r.clock.advance(HOUR);
    const newer = r.respond(pki.leaf);
    const next = new MemoryStore({ now: () => r.clock.now() });
    await next.save(id, newer, r.clock.now() + DAY);
    r.stapler.reconfigure({ store: next });
    await settle();
    assert.deepEqual(r.stapler.stapleById(id), newer);
    // Another certificate's response in a third store is refused; the staple stays.
    const third = new MemoryStore({ now: () => r.clock.now() });
    await third.save(id, r.respond(pki.rsaLeaf), r.clock.now() + DAY);
    r.stapler.reconfigure({ store: third });
    await settle();
    assert.deepEqual(r.stapler.stapleById(id), newer);
    await r.stapler.close();
  });

  it('uses a new fetcher for the next fetch, and closes the old one', async () => {
    const r = makeRig(pki);
    await r.stapler.add(fullchain(pki.leaf, pki.intermediate));
    await r.stapler.idle();
    let oldClosed = false;
    r.fetcher.close = () => ((oldClosed = true), Promise.resolve());
    const fresh = new ScriptedFetcher(() => success(r.respond(pki.leaf)));
    r.stapler.reconfigure({ fetcher: fresh });
    await r.stapler.refreshById(certificateId(pki.leaf.cert.der));
    await settle();
    assert.equal(fresh.calls.length, 1);
    assert.equal(r.fetcher.calls.length, 1);
    assert.ok(oldClosed);
    await r.stapler.close();
  });

  it('starts a certificate that a new responder override makes fetchable', async () => {
    const bare = await issue({ name: 'bare.test', issuer: pki.intermediate });
    const r = makeRig(pki);
    await r.stapler.add(fullchain(bare, pki.intermediate));
    assert.equal(r.stapler.status()[0]!.state, 'no-responder');
    r.fetcher.script = (req) => success(r.respond(bare, {}) ?? req);
    r.stapler.reconfigure({ responderUrlsByIssuer: { [pki.intermediate.cert.subject]: ['http://127.0.0.1:9/other'] } });
    await settle();
    await r.stapler.idle();
    assert.equal(r.fetcher.calls.length, 1);
    assert.deepEqual(r.fetcher.calls[0]!.urls, ['http://127.0.0.1:9/other']);
    assert.equal(r.stapler.status()[0]!.state, 'stapled');
    await r.stapler.close();
  });

  it('refuses invalid settings with the same errors as the constructor, and changes nothing', async () => {
    const r = makeRig(pki, { timeoutMs: 2_000 });
    assert.throws(() => r.stapler.reconfigure({ timeoutMs: -1 }), /timeoutMs.*-1 is not valid/);
    await r.stapler.close();
  });
});
