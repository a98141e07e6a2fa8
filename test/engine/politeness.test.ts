// Politeness toward CAs, through the whole engine on a fake clock: a restart spreads its overdue
// refreshes and paces them per responder, and a hung responder delays no other responder's
// certificates (HAProxy #3498 is the anti-example).

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { FetchOutcome } from '../../src/fetch/staple-fetcher.ts';
import { MemoryStore } from '../../src/store/memory-store.ts';
import { DAY, makeRig, MIN } from '../support/engine-rig.ts';
import { settle } from '../support/fake-clock.ts';
import { fullchain, issue, makePki, type Issued, type TestPki } from '../support/pki.ts';
import { Prng } from '../support/prng.ts';
import { failure, success } from '../support/scripted-fetcher.ts';

const CA = 'http://127.0.0.1:9/ocsp';
const HUNG = 'http://127.0.0.1:10/ocsp';
let pki: TestPki;
let leaves: Issued[];
let hungLeaves: Issued[];
before(async () => {
  pki = await makePki({ ocspUrl: CA });
  leaves = await Promise.all(Array.from({ length: 40 }, (_, i) => issue({ name: `polite-${i}.test`, issuer: pki.intermediate, ocspUrls: [CA] })));
  hungLeaves = await Promise.all(Array.from({ length: 20 }, (_, i) => issue({ name: `hung-${i}.test`, issuer: pki.intermediate, ocspUrls: [HUNG] })));
});

const chain = (leaf: Issued): string => fullchain(leaf, pki.intermediate);
const bySerial = (serial: string): Issued => [...leaves, ...hungLeaves].find((l) => l.cert.serialHex === serial)!;

describe('politeness toward CAs', () => {
  it('after a restart, overdue refreshes are spread over the spread window and paced, none after expiry', async () => {
    const store = new MemoryStore();
    const first = makeRig(pki, {}, store);
    first.fetcher.script = (req) => success(first.respond(bySerial(req.certificate.serialHex)));
    for (const leaf of leaves) await first.stapler.add(chain(leaf));
    await first.stapler.ready();
    await first.stapler.close();
    // Down for three days: every stored staple (4 days of validity) is past its refresh point.
    await first.clock.advance(3 * DAY);
    const prng = new Prng(17);
    const second = makeRig(pki, { random: () => prng.next(), responderRatePerSecond: 1 }, store, first.clock);
    const starts: number[] = [];
    second.fetcher.script = (req) => {
      starts.push(second.clock.now());
      return success(second.respond(bySerial(req.certificate.serialHex)));
    };
    const restart = second.clock.now();
    for (const leaf of leaves) await second.stapler.add(chain(leaf));
    await settle();
    assert.equal(starts.length, 0, 'nothing fetched at once: every stored staple is still valid and served');
    assert.equal(second.stapler.status().filter((s) => s.source === 'store').length, leaves.length);
    await second.clock.advance(30 * MIN);
    assert.equal(starts.length, leaves.length, 'all refreshed within the floor and the 15-minute spread');
    const offsets = starts.map((t) => t - restart).sort((a, b) => a - b);
    assert.ok(offsets[0]! >= 10_000, 'none before the floor');
    assert.ok(offsets.at(-1)! <= 10_000 + 15 * MIN + 40_000, 'none long after the spread');
    const validUntil = Math.min(...second.stapler.status().map((s) => s.validUntil!));
    assert.ok(restart + 30 * MIN < validUntil - DAY / 2, 'refreshed long before expiry');
    // Spread: no minute holds more than a fifth of them. Paced: never two within a second.
    for (let m = 0; m < 30; m++) assert.ok(offsets.filter((o) => o >= m * MIN && o < (m + 1) * MIN).length <= leaves.length / 5, `minute ${m}`);
    assert.ok(
      offsets.slice(1).every((o, i) => o - offsets[i]! >= 1_000),
      'at most one start a second at 1/s',
    );
    await second.stapler.close();
  });

  it("a hung responder delays no other responder's certificates", async () => {
    const r = makeRig(pki, { responderConcurrency: 4 });
    const hung: Promise<FetchOutcome>[] = [];
    r.fetcher.script = (req) => {
      if (req.urls[0] !== HUNG) return success(r.respond(bySerial(req.certificate.serialHex)));
      // Never answers; gives up only when the engine closes.
      const answer = new Promise<FetchOutcome>((resolve) =>
        req.signal.addEventListener('abort', () => resolve(failure('fetch-timeout', 'aborted')), { once: true }),
      );
      hung.push(answer);
      return answer;
    };
    // The hung responder's certificates first: 20 of them, ahead of everyone else in the queue.
    for (const leaf of hungLeaves) await r.stapler.add(chain(leaf));
    for (const leaf of leaves) await r.stapler.add(chain(leaf));
    await settle();
    assert.equal(hung.length, 4, 'the hung responder holds its 4 slots and no more');
    const stapled = r.stapler.status().filter((s) => s.state === 'stapled');
    assert.equal(stapled.length, leaves.length, 'every certificate of the other responder is stapled while it hangs');
    await r.stapler.close();
  });
});
