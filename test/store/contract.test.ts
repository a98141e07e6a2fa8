// The contract every StapleStore keeps, checked on each of them: leases with a TTL that renew,
// are taken over once expired and are released only by their holder; staples that expire.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DirectoryStore } from '../../src/store/directory-store.ts';
import { MemoryStore } from '../../src/store/memory-store.ts';
import type { StapleStore } from '../../src/store/store.ts';

const KEY = 'd'.repeat(64);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
let root: string;
let count = 0;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'stapler-contract-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Two views of one store (two processes for a directory; one object for memory), on a shared clock. */
interface Rig {
  readonly a: StapleStore;
  readonly b: StapleStore;
  readonly clock: { now: number };
}

const kinds: Record<string, () => Rig> = {
  MemoryStore: () => {
    // Near real time: the directory store's files get real ctimes, and both run on the same scenario.
    const clock = { now: Date.now() };
    const store = new MemoryStore({ now: () => clock.now });
    return { a: store, b: store, clock };
  },
  DirectoryStore: () => {
    const clock = { now: Date.now() };
    const dir = join(root, `store-${count++}`);
    return { a: new DirectoryStore(dir, { now: () => clock.now }), b: new DirectoryStore(dir, { now: () => clock.now }), clock };
  },
};

for (const [kind, make] of Object.entries(kinds)) {
  describe(`${kind} keeps the StapleStore contract`, () => {
    it('gives a lease to one holder; it is taken over once expired, and the old holder can neither renew nor release it', async () => {
      const { a, b, clock } = make();
      const first = await a.acquire(KEY, 30_000);
      assert.ok(first, 'lease acquired');
      assert.equal(await b.acquire(KEY, 30_000), null, 'held');
      clock.now += 29_000;
      assert.equal(await b.acquire(KEY, 30_000), null, 'still held just before expiry');
      clock.now += 2_000;
      const second = await b.acquire(KEY, 30_000);
      assert.ok(second, 'taken over after expiry');
      assert.equal(await first.renew(), false, 'the old holder lost it');
      await first.release();
      assert.equal(await a.acquire(KEY, 30_000), null, "the old holder's release did not free the new lease");
      await second.release();
      assert.ok(await a.acquire(KEY, 30_000), 'released by its holder');
    });
    it('keeps a lease that is renewed, past its first TTL', async () => {
      const { a, b, clock } = make();
      const lease = await a.acquire(KEY, 30_000);
      assert.ok(lease, 'lease acquired');
      for (let i = 0; i < 4; i++) {
        clock.now += 20_000;
        assert.equal(await lease.renew(), true, `renewal ${i + 1}`);
        assert.equal(await b.acquire(KEY, 30_000), null, `still held after ${(i + 1) * 20} s`);
      }
      clock.now += 31_000;
      assert.equal(await lease.renew(), false, 'not renewed in time: lost');
      assert.ok(await b.acquire(KEY, 30_000), 'and taken over');
    });
    it('cannot renew a released lease', async () => {
      const { a, b } = make();
      const lease = await a.acquire(KEY, 30_000);
      assert.ok(lease, 'lease acquired');
      await lease.release();
      assert.equal(await lease.renew(), false);
      assert.ok(await b.acquire(KEY, 30_000), 'lease acquired');
    });
    it('refuses a lease TTL that is not a positive number', async () => {
      const { a } = make();
      await assert.rejects(a.acquire(KEY, 0), /lease TTL must be a positive number/);
      await assert.rejects(a.acquire(KEY, Number.NaN), /lease TTL must be a positive number/);
    });
    it('drops a staple once its expiresAt has passed, and prune removes it', async () => {
      const { a, b, clock } = make();
      await a.save(KEY, Buffer.from('staple'), clock.now + HOUR);
      clock.now += HOUR - 1_000;
      assert.deepEqual(await b.load(KEY), Buffer.from('staple'), 'kept until expiresAt');
      assert.equal(await b.prune(clock.now), 0, 'nothing to prune yet');
      clock.now += 2_000;
      assert.equal(await b.prune(clock.now), 1);
      assert.equal(await b.prune(clock.now), 0);
      assert.equal(await b.load(KEY), null, 'gone after expiresAt');
    });
    it('does not load a staple past its expiresAt, even before a prune', async () => {
      const { a, b, clock } = make();
      await a.save(KEY, Buffer.from('staple'), clock.now + HOUR);
      clock.now += HOUR + 1_000;
      assert.equal(await b.load(KEY), null);
    });
    it('keeps a staple saved without a known expiry for 10 days', async () => {
      const { a, clock } = make();
      await a.save(KEY, Buffer.from('staple'), 0);
      clock.now += 10 * DAY - HOUR;
      assert.deepEqual(await a.load(KEY), Buffer.from('staple'));
      assert.equal(await a.prune(clock.now), 0);
      clock.now += 2 * HOUR;
      assert.equal(await a.prune(clock.now), 1);
      assert.equal(await a.load(KEY), null);
    });
    it('prunes an expired lease, so that it is free again', async () => {
      const { a, b, clock } = make();
      assert.ok(await a.acquire(KEY, 30_000), 'lease acquired');
      assert.equal(await a.prune(clock.now), 0, 'a live lease is kept');
      clock.now += 31_000;
      assert.equal(await a.prune(clock.now), 1);
      assert.ok(await b.acquire(KEY, 30_000), 'lease acquired');
    });
  });
}
