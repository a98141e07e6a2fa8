// The fetch queue's bounds, each with the attack or accident it stops, on a fake clock.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FetchQueue } from '../../src/engine/queue.ts';
import { FakeClock, settle } from '../support/fake-clock.ts';

/** A task that stays open until the test ends it, recording when it started. */
class Tasks {
  readonly started: { origin: string; at: number; name: string }[] = [];
  private readonly open = new Map<string, () => void>();

  constructor(private readonly clock: FakeClock) {}

  task(origin: string, name: string): () => Promise<string> {
    return () => {
      this.started.push({ origin, at: this.clock.now(), name });
      return new Promise<string>((resolve) => this.open.set(name, () => resolve(name)));
    };
  }

  end(name: string): void {
    this.open.get(name)?.();
    this.open.delete(name);
  }

  runningFor(origin: string): number {
    return this.started.filter((s) => s.origin === origin && this.open.has(s.name)).length;
  }
}

const A = 'http://a.test';
const B = 'http://b.test';

describe('the fetch queue', () => {
  it('a hung responder fills its own lane only: another responder is served at once (HAProxy #3498)', async () => {
    const clock = new FakeClock();
    const q = new FetchQueue({ limit: 64, perOrigin: 4, ratePerSecond: 0 }, clock);
    const t = new Tasks(clock);
    // A hangs: its fetches never end. 100 of them are queued before B's first.
    for (let i = 0; i < 100; i++) void q.run(A, false, t.task(A, `a${i}`));
    const done: string[] = [];
    for (let i = 0; i < 10; i++) void q.run(B, false, t.task(B, `b${i}`)).then((n) => done.push(n));
    await settle();
    assert.equal(t.runningFor(A), 4, 'A has its 4 slots, no more');
    assert.equal(t.runningFor(B), 4, "B's first fetches started at once, behind 100 of A's");
    for (let round = 0; round < 10 && done.length < 10; round++) {
      for (const s of t.started.filter((x) => x.origin === B)) t.end(s.name);
      await settle();
    }
    assert.equal(done.length, 10, "every one of B's fetches ran while A hung");
    assert.equal(t.runningFor(A), 4);
    assert.equal(q.pending, 96);
  });

  it('starts fetches to one responder evenly spaced at its rate, never in a burst', async () => {
    const clock = new FakeClock();
    const q = new FetchQueue({ limit: 64, perOrigin: 64, ratePerSecond: 100 }, clock);
    const t = new Tasks(clock);
    const t0 = clock.now();
    // A restart: 50 certificates all due at once, each fetch ending at once.
    for (let i = 0; i < 50; i++) void q.run(A, false, t.task(A, `a${i}`)).then(() => undefined);
    await settle();
    assert.equal(t.started.length, 1, 'one at first');
    while (t.started.length < 50) {
      for (const s of t.started) t.end(s.name);
      await clock.advanceTo(clock.nextTimer()!);
    }
    const gaps = t.started.slice(1).map((s, i) => s.at - t.started[i]!.at);
    assert.ok(
      gaps.every((g) => g >= 10),
      `never two starts within 10 ms: ${gaps.join(',')}`,
    );
    assert.equal(t.started.at(-1)!.at - t0, 490, '50 starts at 100/s take 490 ms');
  });

  it('the rate of one responder does not hold up another', async () => {
    const clock = new FakeClock();
    const q = new FetchQueue({ limit: 64, perOrigin: 64, ratePerSecond: 1 }, clock);
    const t = new Tasks(clock);
    for (let i = 0; i < 5; i++) void q.run(A, false, t.task(A, `a${i}`));
    void q.run(B, false, t.task(B, 'b0'));
    await settle();
    assert.deepEqual(
      t.started.map((s) => s.name),
      ['a0', 'b0'],
    );
  });

  it('bounds fetches across all responders', async () => {
    const clock = new FakeClock();
    const q = new FetchQueue({ limit: 3, perOrigin: 8, ratePerSecond: 0 }, clock);
    const t = new Tasks(clock);
    for (let i = 0; i < 5; i++) void q.run(A, false, t.task(A, `a${i}`));
    for (let i = 0; i < 5; i++) void q.run(B, false, t.task(B, `b${i}`));
    await settle();
    assert.equal(q.active, 3);
    assert.equal(q.pending, 7);
    // Lanes take turns as slots free up: B's first fetch comes before A's last ones.
    t.end('a0');
    t.end('a1');
    await settle();
    assert.deepEqual(
      t.started.map((s) => s.name),
      ['a0', 'a1', 'a2', 'a3', 'b0'],
    );
  });

  it('within a lane, urgent (Must-Staple) fetches go first', async () => {
    const clock = new FakeClock();
    const q = new FetchQueue({ limit: 1, perOrigin: 1, ratePerSecond: 0 }, clock);
    const t = new Tasks(clock);
    void q.run(A, false, t.task(A, 'first'));
    void q.run(A, false, t.task(A, 'normal'));
    void q.run(A, true, t.task(A, 'urgent'));
    await settle();
    t.end('first');
    await settle();
    assert.equal(t.started[1]!.name, 'urgent');
  });

  it('a task that throws frees its slot and rejects', async () => {
    const clock = new FakeClock();
    const q = new FetchQueue({ limit: 1, perOrigin: 1, ratePerSecond: 0 }, clock);
    await assert.rejects(
      q.run(A, false, () => {
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal(await q.run(A, false, () => Promise.resolve('next')), 'next');
  });
});
