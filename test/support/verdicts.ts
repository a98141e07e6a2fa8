// An `Acceptable` verdict for the lifecycle's table tests (lifecycle.test.ts, lifecycle-edges.test.ts):
// a good response, an hour old, valid four days, signed by the issuer; `over` changes any field.

import type { Acceptable } from '../../src/ocsp/verify.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export function acceptable(now: number, over: Partial<Acceptable> = {}): Acceptable {
  const thisUpdate = over.thisUpdate ?? now - HOUR;
  const validUntil = over.validUntil ?? thisUpdate + 4 * DAY;
  return {
    ok: true,
    serial: '1003',
    certStatus: 'good',
    thisUpdate,
    nextUpdate: validUntil,
    producedAt: thisUpdate,
    revocationTime: null,
    revocationReason: null,
    validUntil,
    signer: 'issuer',
    signerNotAfter: now + 365 * DAY,
    certIdHashes: ['sha1'],
    ...over,
  };
}
