// The engine against what goes wrong around it: an issuer that arrives later, a store that fails,
// a lease that must outlive a slow fetch, a fetcher that throws, and its typed errors.

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ClosedError, MustStapleError } from '../../src/engine/errors.ts';
import { certificateId } from '../../src/engine/managed.ts';
import { FAILURE_REASONS } from '../../src/fetch/staple-fetcher.ts';
import { MemoryStore } from '../../src/store/memory-store.ts';
import type { Lease } from '../../src/store/store.ts';
import { DAY, HOUR, makeRig, MIN, type Rig, type RigOptions } from '../support/engine-rig.ts';
import { settle } from '../support/fake-clock.ts';
import { fullchain, makePki, type Issued, type TestPki } from '../support/pki.ts';

let pki: TestPki;
before(async () => {
  pki = await makePki({ ocspUrl: 'http://127.0.0.1:9/ocsp' });
});

const chain = (leaf: Issued): string => fullchain(leaf, pki.intermediate);

/** A memory store whose every operation can be made to fail, and which counts what it is asked. */
class FaultyStore extends MemoryStore {
  failing = false;
  prunes: number[] = [];
  /** While set, release() waits for it (a slow disk). */
  releaseGate: Promise<void> | null = null;
  renewals = 0;
  releases = 0;
  private fail(): void {
    if (this.failing) throw new Error('EROFS: read-only file system');
  }
  override async load(key: string): Promise<Buffer | null> {
    this.fail();
    return super.load(key);
  }
  override async save(key: string, der: Buffer): Promise<void> {
    this.fail();
    return super.save(key, der);
  }
  override async acquire(key: string, ttlMs: number): Promise<Lease | null> {
    this.fail();
    const lease = await super.acquire(key, ttlMs);
    if (!lease) return null;
    return {
      release: async () => {
        this.releases++;
        if (this.releaseGate) await this.releaseGate;
        return lease.release();
      },
      renew: () => {
        this.renewals++;
        return lease.renew();
      },
    };
  }
  override prune(now: number): Promise<number> {
    this.prunes.push(now);
    return super.prune(now);
  }
}

const rig = (options: RigOptions = {}, store = new FaultyStore()): Rig<FaultyStore> => makeRig(pki, options, store);

describe('an issuer learned later completes an earlier registration', () => {
  it("certbot's layout: cert.pem (no chain) first, then fullchain.pem with the same leaf", async () => {
    const r = rig();
    const first = await r.stapler.add(pki.leaf.pem, { label: 'cert.pem' });
    assert.equal(first.state, 'no-issuer');
    assert.equal(r.fetcher.calls.length, 0);
    await r.stapler.add(chain(pki.leaf), { label: 'fullchain.pem' });
    await r.stapler.ready();
    const [status] = r.stapler.status();
    assert.equal(status!.state, 'stapled');
    assert.equal(r.fetcher.calls.length, 1, 'one fetch for the one leaf');
    assert.ok(r.lines.some((l) => /issuer found in a chain added later/.test(l.message)));
    await r.stapler.close();
  });
  it("another leaf's chain with the same intermediate completes it too", async () => {
    const r = rig();
    await r.stapler.add(pki.leaf.pem);
    await r.stapler.add(chain(pki.rsaLeaf));
    await r.stapler.ready();
    assert.deepEqual(
      r.stapler.status().map((s) => s.state),
      ['stapled', 'stapled'],
    );
    await r.stapler.close();
  });
});

describe('a store that fails never stops stapling', () => {
  it('fetches without a lease, staples from memory, and logs the store state once, then its recovery once', async () => {
    const store = new FaultyStore();
    store.failing = true;
    const r = rig({}, store);
    r.fetcher.script = () => ({ ok: false, reason: 'fetch-network', message: 'connection refused' });
    await r.stapler.add(chain(pki.leaf));
    await r.clock.advance(10 * MIN);
    assert.ok(r.fetcher.calls.length >= 3, 'it keeps fetching although every store call fails');
    r.fetcher.script = () => ({ ok: true, der: r.respond(), url: 'http://x/', maxAgeSeconds: null });
    await r.clock.advance(10 * MIN);
    assert.ok(r.stapler.stapleFor(pki.leaf.der), 'stapled from memory');
    const failing = r.lines.filter((l) => /the store is failing/.test(l.message));
    assert.equal(failing.length, 1, 'one line when the store starts failing, not one per operation');
    assert.equal(failing[0]!.level, 'error');
    store.failing = false;
    await r.stapler.refreshNow(chain(pki.leaf));
    assert.equal(r.lines.filter((l) => /the store works again/.test(l.message)).length, 1);
    assert.ok(await store.load(r.stapler.status()[0]!.id), 'saved once the store works');
    await r.stapler.close();
  });
});

describe('leases', () => {
  it('are renewed while a slow fetch runs, and released after', async () => {
    const store = new FaultyStore();
    const r = rig({ leaseTtlMs: 30_000, deadlineMs: 15_000 }, store);
    r.fetcher.hold = true;
    await r.stapler.add(chain(pki.leaf));
    await r.clock.advance(45_000);
    assert.ok(store.renewals >= 3, `renewed every third of its TTL (${store.renewals})`);
    r.fetcher.release();
    await r.stapler.idle();
    const renewals = store.renewals;
    await r.clock.advance(60_000);
    assert.equal(store.renewals, renewals, 'no renewal after the fetch');
    assert.equal(store.releases, 1);
    await r.stapler.close();
  });
  it('another holder: the engine waits for its result through the store, and fetches itself if none comes', async () => {
    const store = new FaultyStore();
    const r = rig({ leaseTtlMs: 30_000 }, store);
    const held = await store.acquire(certificateId(pki.leaf.der), 30_000);
    await r.stapler.add(chain(pki.leaf));
    await settle();
    assert.equal(r.fetcher.calls.length, 0);
    assert.equal(r.stapler.status()[0]!.nextRefreshRule, 'another process is fetching');
    await held!.release();
    await r.clock.advance(30_000);
    assert.equal(r.fetcher.calls.length, 1, 'the holder saved nothing: this process fetches');
    await r.stapler.close();
  });
});

describe('the next refresh is never lost', () => {
  it('a retry that falls due while the last refresh is still releasing its lease still happens', async () => {
    const store = new FaultyStore();
    let open!: () => void;
    store.releaseGate = new Promise((resolve) => (open = resolve));
    const r = rig({}, store);
    r.fetcher.script = () => ({ ok: false, reason: 'fetch-http-status', message: 'HTTP 500' });
    await r.stapler.add(chain(pki.leaf));
    // The first fetch failed; its retry comes due while the lease release still hangs.
    await r.clock.advance(5 * MIN);
    assert.equal(r.fetcher.calls.length, 1);
    store.releaseGate = null;
    open();
    await r.clock.advance(10 * MIN);
    assert.ok(r.fetcher.calls.length >= 3, `fetching went on (${r.fetcher.calls.length} fetches)`);
    await r.stapler.close();
  });
});

describe('the store is pruned', () => {
  it('at start and every hour', async () => {
    const store = new FaultyStore();
    const r = rig({}, store);
    await settle();
    assert.equal(store.prunes.length, 1);
    await r.clock.advance(HOUR);
    assert.equal(store.prunes.length, 2);
    await r.stapler.close();
    await r.clock.advance(2 * HOUR);
    assert.equal(store.prunes.length, 2, 'not after close');
  });
});

describe('typed failures and errors', () => {
  it('a fetcher that throws is recorded as an internal failure, and retried', async () => {
    const r = rig();
    r.fetcher.script = () => {
      throw new TypeError('fetcher bug');
    };
    await r.stapler.add(chain(pki.leaf));
    await r.stapler.idle();
    const [status] = r.stapler.status();
    assert.equal(status!.lastError?.reason, 'internal');
    assert.match(status!.lastError.message, /fetcher bug/);
    assert.ok(FAILURE_REASONS.includes(status!.lastError.reason));
    assert.ok(status!.nextRefreshAt! > r.clock.now());
    await r.stapler.close();
  });
  it('ready() rejects with a MustStapleError that lists the certificates and their last error', async () => {
    const r = rig();
    r.fetcher.script = () => ({ ok: false, reason: 'try-later', message: 'responder said tryLater' });
    await r.stapler.add(chain(pki.mustStapleLeaf));
    const waiting = r.stapler.ready({ timeout: 1_000 });
    const outcome = assert.rejects(waiting, (err: unknown) => {
      assert.ok(err instanceof MustStapleError);
      assert.equal(err.why, 'timeout');
      assert.equal(err.certificates.length, 1);
      assert.equal(err.certificates[0]!.lastError?.reason, 'try-later');
      return true;
    });
    await r.clock.advance(1_000);
    await outcome;
    await r.stapler.close();
  });
  it('add() after close() throws a ClosedError', async () => {
    const r = rig();
    await r.stapler.close();
    await assert.rejects(r.stapler.add(chain(pki.leaf)), ClosedError);
  });
  it('ready() refuses a timeout that is not a number of milliseconds', async () => {
    const r = rig();
    await assert.rejects(r.stapler.ready({ timeout: Number.NaN }), /timeout.*NaN is not valid/);
    await r.stapler.close();
  });
});

describe('expiry', () => {
  it('a staple that expires during an outage is dropped at its end, and fetching goes on', async () => {
    const r = rig();
    await r.stapler.add(chain(pki.leaf));
    await r.stapler.ready();
    r.fetcher.script = () => ({ ok: false, reason: 'fetch-timeout', message: 'no answer' });
    await r.clock.advance(4 * DAY);
    assert.equal(r.stapler.stapleFor(pki.leaf.der), null);
    const calls = r.fetcher.calls.length;
    await r.clock.advance(HOUR);
    assert.ok(r.fetcher.calls.length > calls);
    await r.stapler.close();
  });
});
