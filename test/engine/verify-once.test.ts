// Each response is verified once, its signature on libuv's thread pool: a fetched one by the
// engine's judge, which the fetcher asks (the engine does not verify it again); a stored one when
// it is loaded. A fetcher still cannot slip anything in: bytes it returns other than the ones the
// judge accepted (other bytes, or the same buffer changed since) are verified again and refused.

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { Stapler } from '../../src/node/stapler.ts';
import { parseResponse } from '../../src/ocsp/response.ts';
import { MemoryStore } from '../../src/store/memory-store.ts';
import { recordVerifyCalls } from '../support/crypto-jobs.ts';
import { captureLogger, makeRig } from '../support/engine-rig.ts';
import { settle } from '../support/fake-clock.ts';
import { fullchain, makePki, type TestPki } from '../support/pki.ts';
import { TestResponder } from '../support/responder.ts';
import { success } from '../support/scripted-fetcher.ts';

let pki: TestPki;
before(async () => {
  pki = await makePki({ ocspUrl: 'http://127.0.0.1:9/ocsp' });
});

const chain = (): string => fullchain(pki.leaf, pki.intermediate);
const tbsOf = (der: Buffer): Buffer => Buffer.from(parseResponse(der).basic!.tbsResponseData);

describe('each response verified once, on the thread pool', () => {
  it('a response fetched over HTTP by the built-in fetcher, then the same response loaded from the store by a second process', async (t) => {
    const responder = new TestResponder();
    const url = await responder.listen();
    responder.serve(pki);
    t.after(() => responder.close());
    const store = new MemoryStore();
    const recording = recordVerifyCalls();
    t.after(() => recording.stop());

    const first = new Stapler({ logger: captureLogger().logger, store, responderUrls: [url], responderRatePerSecond: 0 });
    t.after(() => first.close());
    await first.add(chain());
    assert.equal((await first.ready()).stapled.length, 1);
    const staple = first.stapleFor(pki.leaf.der)!;
    const checksOf = (): { onThreadPool: boolean }[] =>
      recording.calls.filter((c) => c.data.equals(tbsOf(staple))).map((c) => ({ onThreadPool: c.onThreadPool }));
    assert.equal(responder.requestCount, 1);
    assert.deepEqual(checksOf(), [{ onThreadPool: true }], "the fetched response's signature: checked once, on the thread pool");

    const second = new Stapler({ logger: captureLogger().logger, store, responderUrls: [url], responderRatePerSecond: 0 });
    t.after(() => second.close());
    await second.add(chain());
    assert.equal((await second.ready()).stapled.length, 1);
    assert.deepEqual(second.stapleFor(pki.leaf.der), staple);
    assert.equal(responder.requestCount, 1, 'the stored response was used: no second fetch');
    assert.deepEqual(checksOf(), [{ onThreadPool: true }, { onThreadPool: true }], 'the stored copy: checked once more, on the thread pool');
  });

  it('refuses bytes other than the ones the judge accepted', async () => {
    const r = makeRig(pki);
    const bad = r.respond(pki.leaf, { corruptSignature: true });
    r.fetcher.script = async (req) => {
      assert.ok((await req.verify!(r.respond(pki.leaf))).ok, 'the judge accepts a good response');
      return success(bad);
    };
    await r.stapler.add(chain());
    await settle();
    assert.equal(r.stapler.stapleFor(pki.leaf.der), null);
    assert.equal(r.stapler.status()[0]!.lastError?.reason, 'bad-signature');
    await r.stapler.close();
  });

  it('refuses the accepted buffer when the fetcher changed it after the judge saw it', async () => {
    const r = makeRig(pki);
    r.fetcher.script = async (req) => {
      const der = r.respond(pki.leaf);
      assert.ok((await req.verify!(der)).ok, 'the judge accepts it as it was');
      der[der.length - 5]! ^= 0x5a; // in the signature
      return success(der);
    };
    await r.stapler.add(chain());
    await settle();
    assert.equal(r.stapler.stapleFor(pki.leaf.der), null);
    assert.equal(r.stapler.status()[0]!.lastError?.reason, 'bad-signature');
    await r.stapler.close();
  });

  it('staples what the judge accepted, with no second check', async () => {
    const r = makeRig(pki);
    const good = r.respond(pki.leaf);
    r.fetcher.script = async (req) => {
      assert.ok((await req.verify!(good)).ok);
      return success(good);
    };
    const recording = recordVerifyCalls();
    try {
      await r.stapler.add(chain());
      await settle();
    } finally {
      recording.stop();
    }
    assert.deepEqual(r.stapler.stapleFor(pki.leaf.der), good);
    assert.equal(recording.calls.filter((c) => c.data.equals(tbsOf(good))).length, 1);
  });
});
