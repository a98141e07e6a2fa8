// The engine's lookup by exact OCSP CertID (for the daemon's responder), on the fake clock.

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { buildRequest, certIdFor, type CertId } from '../../src/ocsp/request.ts';
import { parseRequest } from '../../src/ocsp/request-parse.ts';
import { fullchain, makePki, type TestPki } from '../support/pki.ts';
import { makeRig } from '../support/engine-rig.ts';
import { failure } from '../support/scripted-fetcher.ts';
import { settle } from '../support/fake-clock.ts';

let pki: TestPki;
before(async () => {
  pki = await makePki({ ocspUrl: 'http://127.0.0.1:9/ocsp' });
});

const idOf = (leaf = pki.leaf, hash: 'sha1' | 'sha256' = 'sha1'): CertId => certIdFor(leaf.cert, pki.intermediate.cert, hash);

describe('the engine by OCSP CertID', () => {
  it('finds a certificate by its SHA-1 and SHA-256 CertIDs, with its staple once fetched, and nothing else', async () => {
    const { stapler } = makeRig(pki);
    await stapler.add(fullchain(pki.leaf, pki.intermediate));
    for (const hash of ['sha1', 'sha256'] as const) assert.equal(stapler.lookupCertId(idOf(pki.leaf, hash))?.status.serial, pki.leaf.cert.serialHex, hash);
    await stapler.idle();
    const found = stapler.lookupCertId(parseRequest(buildRequest(idOf(pki.leaf, 'sha256'))).certIds[0]!)!;
    assert.equal(found.status.state, 'stapled');
    assert.deepEqual(found.staple, stapler.stapleById(found.status.id));
    // Not managed, or not exactly this CertID.
    assert.equal(stapler.lookupCertId(idOf(pki.rsaLeaf)), null);
    assert.equal(stapler.lookupCertId({ ...idOf(), serial: Buffer.concat([Buffer.from([0]), idOf().serial]) }), null);
    assert.equal(stapler.lookupCertId({ ...idOf(), issuerKeyHash: Buffer.alloc(20) }), null);
    assert.equal(stapler.lookupCertId({ ...idOf(), hash: 'sha384' }), null);
    await stapler.close();
  });

  it('no staple before the first fetch, nor once it expired: the certificate is still found', async () => {
    const rig = makeRig(pki);
    rig.fetcher.hold = true;
    await rig.stapler.add(fullchain(pki.leaf, pki.intermediate));
    const pending = rig.stapler.lookupCertId(idOf())!;
    assert.equal(pending.staple, null);
    assert.equal(pending.status.state, 'pending');
    await settle();
    assert.equal(rig.fetcher.heldCount, 1);
    assert.equal(rig.stapler.lookupCertId(idOf())!.staple, null, 'while the first fetch runs');
    rig.fetcher.release();
    await rig.stapler.close();
    const later = makeRig(pki);
    await later.stapler.add(fullchain(pki.leaf, pki.intermediate));
    await later.stapler.idle();
    const { validUntil } = later.stapler.lookupCertId(idOf())!.status;
    later.fetcher.script = () => failure();
    await later.clock.advanceTo(validUntil! + 1);
    const expired = later.stapler.lookupCertId(idOf())!;
    assert.equal(expired.staple, null);
    assert.equal(expired.now, later.clock.now());
    await later.stapler.close();
  });

  it('finds a certificate whose issuer came later in another chain, and forgets a removed one', async () => {
    const { stapler } = makeRig(pki);
    await stapler.add(pki.leaf.pem);
    assert.equal(stapler.lookupCertId(idOf()), null, 'no issuer: no CertID');
    await stapler.add(fullchain(pki.rsaLeaf, pki.intermediate));
    const found = stapler.lookupCertId(idOf());
    assert.equal(found?.status.serial, pki.leaf.cert.serialHex);
    assert.ok(stapler.removeById(found.status.id));
    assert.equal(stapler.lookupCertId(idOf()), null);
    assert.equal(stapler.lookupCertId(idOf(pki.rsaLeaf, 'sha256'))?.status.serial, pki.rsaLeaf.cert.serialHex);
    await stapler.close();
  });
});
