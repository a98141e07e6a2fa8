// engine.reconfigure() with new verification settings (SIGHUP in the daemon): each staple held
// is verified again. One the new settings refuse is dropped through the lifecycle, as an expired
// one is (never served again, logged once, a fetch due); one that still passes stays, with its
// expiry under the new rules. On a fake clock.

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { certificateId } from '../../src/engine/managed.ts';
import { HOUR, makeRig, MIN } from '../support/engine-rig.ts';
import { settle } from '../support/fake-clock.ts';
import { fullchain, makePki, type TestPki } from '../support/pki.ts';
import { buildResponse } from '../support/responses.ts';
import { ScriptedFetcher, success } from '../support/scripted-fetcher.ts';

let pki: TestPki;
before(async () => {
  pki = await makePki({ ocspUrl: 'http://127.0.0.1:9/ocsp' });
});

const REFUSED = /refused under the new verification settings/;

describe('engine.reconfigure() with new verification settings', () => {
  it('drops a held staple the new settings refuse (a SHA-1 signature, no longer allowed), logs it once, and fetches again', async () => {
    const r = makeRig(pki, { allowSha1Signatures: true });
    const sha1Signed = (): Buffer =>
      buildResponse({
        cert: pki.leaf,
        issuer: pki.intermediate,
        thisUpdate: new Date(r.clock.now() - MIN),
        nextUpdate: new Date(r.clock.now() + 4 * 24 * HOUR),
        signatureHash: 'sha1',
      });
    const fetcher = new ScriptedFetcher(() => success(sha1Signed()));
    r.stapler.reconfigure({ allowSha1Signatures: true, fetcher });
    const expired: string[] = [];
    r.stapler.on('expired', (s) => expired.push(s.serial));
    await r.stapler.add(fullchain(pki.leaf, pki.intermediate));
    await r.stapler.idle();
    const id = certificateId(pki.leaf.cert.der);
    assert.ok(r.stapler.stapleById(id), 'stapled while SHA-1 is allowed');

    // Another setting changes, not verification: the staple stays.
    r.stapler.reconfigure({ allowSha1Signatures: true, timeoutMs: 2_000, fetcher });
    assert.ok(r.stapler.stapleById(id));

    r.stapler.reconfigure({ fetcher });
    assert.equal(r.stapler.stapleById(id), null, 'never served once the settings refuse it');
    assert.equal(r.stapler.statusById(id)!.serving, false);
    assert.deepEqual(expired, [pki.leaf.cert.serialHex], 'the faces hear it as a removal (staple files are withdrawn)');
    // A fetch is due now, though never closer than the floor (10 s) to the last one.
    await r.clock.advanceTo(r.clock.now() + 10_000);
    await settle();
    await r.stapler.idle();
    assert.equal(fetcher.calls.length, 2, 'a fetch is due');
    assert.equal(r.stapler.stapleById(id), null, 'the fetched SHA-1 response is refused too');
    r.stapler.reconfigure({ skewMs: 60_000, fetcher });
    r.stapler.reconfigure({ fetcher });
    assert.equal(r.lines.filter((l) => REFUSED.test(l.message)).length, 1, 'logged once');
    await r.stapler.close();
  });

  it('keeps a held staple that still passes, with its expiry under the new rules (no fetch, no log)', async () => {
    const r = makeRig(pki);
    // No nextUpdate: its lifetime is maxAgeWithoutNextUpdateMs (1 h by default) from thisUpdate.
    const thisUpdate = r.clock.now() - 10 * MIN;
    const fetcher = new ScriptedFetcher(() =>
      success(buildResponse({ cert: pki.leaf, issuer: pki.intermediate, thisUpdate: new Date(thisUpdate), nextUpdate: null })),
    );
    r.stapler.reconfigure({ fetcher });
    await r.stapler.add(fullchain(pki.leaf, pki.intermediate));
    await r.stapler.idle();
    const id = certificateId(pki.leaf.cert.der);
    const held = r.stapler.stapleById(id);
    assert.ok(held);
    assert.equal(r.stapler.statusById(id)!.validUntil, thisUpdate + HOUR);

    r.stapler.reconfigure({ maxAgeWithoutNextUpdateMs: 2 * HOUR, fetcher });
    assert.deepEqual(r.stapler.stapleById(id), held, 'still the same staple');
    assert.equal(r.stapler.statusById(id)!.validUntil, thisUpdate + 2 * HOUR, 'valid as the new rule says');
    // Its expiry timer follows: still served past the old bound, dropped at the new one.
    await r.clock.advanceTo(thisUpdate + HOUR + MIN);
    assert.ok(r.stapler.stapleById(id), 'served past the old bound');

    // Shorter than its age now: refused, dropped at once.
    r.stapler.reconfigure({ maxAgeWithoutNextUpdateMs: 30 * MIN, fetcher });
    assert.equal(r.stapler.stapleById(id), null);
    assert.equal(r.lines.filter((l) => REFUSED.test(l.message)).length, 1);
    await r.stapler.close();
  });
});
