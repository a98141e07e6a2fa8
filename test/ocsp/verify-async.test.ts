// verifyResponseAsync: the same steps as verifyResponse, with every signature checked on libuv's
// thread pool. Same bytes, same verdict, on the whole vector catalogue (every rejection reason,
// every signature algorithm, delegated responders); and no signature checked on the event loop.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseResponse } from '../../src/ocsp/response.ts';
import { verifyResponse, verifyResponseAsync } from '../../src/ocsp/verify.ts';
import { recordVerifyCalls } from '../support/crypto-jobs.ts';
import { buildVectors } from '../support/vectors.ts';

describe('verifyResponseAsync', () => {
  it('gives the verdict verifyResponse gives, on every vector of the catalogue', async () => {
    // Each pass on a catalogue of its own: neither finds delegated responders already proven by the other.
    const [a, b] = [await buildVectors(), await buildVectors()];
    const differ: string[] = [];
    for (let i = 0; i < a.vectors.length; i++) {
      const va = a.vectors[i]!;
      const vb = b.vectors[i]!;
      const asyncVerdict = await verifyResponseAsync(va.der, { certificate: va.cert, issuer: va.issuer, now: a.now, settings: va.settings });
      const syncVerdict = verifyResponse(va.der, { certificate: va.cert, issuer: va.issuer, now: a.now, settings: va.settings });
      const fresh = verifyResponse(vb.der, { certificate: vb.cert, issuer: vb.issuer, now: b.now, settings: vb.settings });
      const got = asyncVerdict.ok ? asyncVerdict.certStatus : asyncVerdict.reason;
      if (got !== va.expect) differ.push(`${va.name}: expected ${va.expect}, got ${got}`);
      if (JSON.stringify(asyncVerdict) !== JSON.stringify(syncVerdict)) differ.push(`${va.name}: async and sync verdicts differ`);
      const freshGot = fresh.ok ? fresh.certStatus : fresh.reason;
      if (freshGot !== got) differ.push(`${va.name}: sync on a fresh catalogue gives ${freshGot}, async ${got}`);
    }
    assert.deepEqual(differ, []);
    assert.ok(a.vectors.length > 40, `the catalogue has ${a.vectors.length} vectors`);
  });

  it("checks every signature on the thread pool, the delegated responder's included: none on the event loop", async () => {
    const set = await buildVectors();
    const delegated = set.vectors.find((v) => v.name === 'delegated responder, by key')!;
    const plain = set.vectors.find((v) => v.name === 'issuer-signed, responder by name')!;
    const recording = recordVerifyCalls();
    try {
      for (const v of [plain, delegated]) {
        const verdict = await verifyResponseAsync(v.der, { certificate: v.cert, issuer: v.issuer, now: set.now });
        assert.ok(verdict.ok, v.name);
      }
    } finally {
      recording.stop();
    }
    const tbsOf = (der: Buffer): Buffer => Buffer.from(parseResponse(der).basic!.tbsResponseData);
    const responseChecks = recording.calls.filter((c) => c.data.equals(tbsOf(plain.der)) || c.data.equals(tbsOf(delegated.der)));
    assert.equal(responseChecks.length, 2, 'one check of each response signature');
    assert.equal(recording.calls.length, 3, "and one of the delegated responder's certificate");
    assert.deepEqual(
      recording.calls.filter((c) => !c.onThreadPool),
      [],
      'no signature checked on the event loop',
    );
  });
});
