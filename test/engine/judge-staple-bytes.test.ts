// engine.validUntilById(): bytes that are not the held staple (a staple file found on disk at
// start), verified for a registered certificate as a fetched response is. The daemon withdraws
// such a file at the time this gives; refused bytes have no such time. On a fake clock.

import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { certificateId } from '../../src/engine/managed.ts';
import { HOUR, makeRig, MIN } from '../support/engine-rig.ts';
import { fullchain, issue, makePki, type TestPki } from '../support/pki.ts';
import { buildResponse } from '../support/responses.ts';
import { ScriptedFetcher, success } from '../support/scripted-fetcher.ts';

let pki: TestPki;
before(async () => {
  pki = await makePki({ ocspUrl: 'http://127.0.0.1:9/ocsp' });
});

it('gives until when bytes would be a valid staple of the certificate, and null for bytes it refuses or a certificate not added', async () => {
  const r = makeRig(pki);
  const now = r.clock.now();
  const response = (over: { nextUpdate: number; cert?: typeof pki.leaf }): Buffer =>
    buildResponse({ cert: over.cert ?? pki.leaf, issuer: pki.intermediate, thisUpdate: new Date(now - MIN), nextUpdate: new Date(over.nextUpdate) });
  const held = response({ nextUpdate: now + 4 * 24 * HOUR });
  r.stapler.reconfigure({ fetcher: new ScriptedFetcher(() => success(held)) });
  await r.stapler.add(fullchain(pki.leaf, pki.intermediate));
  await r.stapler.idle();
  const id = certificateId(pki.leaf.cert.der);

  const older = response({ nextUpdate: now + 2 * HOUR });
  assert.equal(r.stapler.validUntilById(id, older), now + 2 * HOUR, 'an older valid staple: its nextUpdate');
  assert.equal(r.stapler.validUntilById(id, held), now + 4 * 24 * HOUR, 'the held one');
  assert.equal(r.stapler.validUntilById(id, response({ nextUpdate: now - 1 })), null, 'lapsed');
  const other = await issue({ name: 'other.test', issuer: pki.intermediate });
  assert.equal(r.stapler.validUntilById(id, response({ nextUpdate: now + HOUR, cert: other })), null, 'another certificate’s');
  assert.equal(r.stapler.validUntilById(id, Buffer.from('not OCSP')), null, 'garbage');
  assert.equal(r.stapler.validUntilById('no-such-id', older), null, 'a certificate not added');
  assert.equal(r.stapler.stapleById(id)?.equals(held), true, 'judging bytes leaves the held staple alone');
  await r.stapler.close();
});
