// The soak's CA: the tests' responder, switched through a random schedule of faults, and a record
// of every acceptable response it issued, per serial: "a valid response exists" is read from it.

import type { Prng } from '../../test/support/prng.ts';
import type { Behaviour } from '../../test/support/responder.ts';
import { TestResponder } from '../../test/support/responder.ts';
import { verifyResponse } from '../../src/ocsp/verify.ts';
import type { Certificate } from '../../src/ocsp/certificate.ts';

/** The faults of the schedule, with their weights; 'good' fills the rest. */
export const FAULTS: readonly [Behaviour, number][] = [
  ['hang', 2],
  ['trickle', 1],
  ['reset', 2],
  ['tryLater', 2],
  ['http-500', 2],
  ['wrong-serial', 2],
  ['bad-signature', 2],
  ['expired', 2],
  ['unknown', 2],
  ['revoked', 1],
];
const GOOD_WEIGHT = 14;
/** certificateHold (RFC 5280): the one revocation a later "good" lifts. */
const CERTIFICATE_HOLD = 6;

export interface Phase {
  readonly behaviour: Behaviour | 'down';
  readonly ms: number;
}

export class SoakCa {
  readonly responder = new TestResponder();
  /** serial (hex, upper case) -> the latest validUntil of an acceptable response it sent. */
  private readonly issued = new Map<string, { from: number; until: number }>();
  /** serial -> until when a revoked response the CA sent stays valid (the faces keep it). */
  private readonly revokedUntil = new Map<string, number>();
  readonly phases: Record<string, number> = {};
  private issuer: Certificate | null = null;
  private readonly certs = new Map<string, Certificate>();
  private down = false;

  constructor(private readonly prng: Prng) {}

  async listen(): Promise<string> {
    const url = await this.responder.listen();
    // Record what was answered: each acceptable response extends "a valid response exists". A
    // trickled one (a byte every 500 ms) never arrives within any fetch timeout: it does not count.
    const make = this.responder.makeResponse.bind(this.responder);
    this.responder.makeResponse = async (serialHex, nonce) => {
      const der = await make(serialHex, nonce);
      if (this.responder.behaviour !== 'trickle') this.record(serialHex.toUpperCase(), der);
      return der;
    };
    return url;
  }

  know(cert: Certificate, issuer: Certificate): void {
    this.certs.set(cert.serialHex.toUpperCase(), cert);
    this.issuer = issuer;
  }

  private record(serial: string, der: Buffer): void {
    const cert = this.certs.get(serial);
    if (!cert || !this.issuer) return;
    const now = Date.now();
    const verdict = verifyResponse(der, { certificate: cert, issuer: this.issuer, now });
    if (!verdict.ok) return;
    // A revocation sticks (src/engine/lifecycle.ts): while a revoked response is valid, a "good" one
    // is refused by every face, so it is not one that exists for them. Measured in a 3-minute
    // soak: good answers after a revoked phase counted the responder's 503s, once the revoked
    // staple expired while the CA was down, as 4.4 s of misses.
    const revokedUntil = this.revokedUntil.get(serial) ?? 0;
    if (verdict.certStatus === 'revoked' && verdict.revocationReason !== CERTIFICATE_HOLD)
      this.revokedUntil.set(serial, Math.max(revokedUntil, verdict.validUntil));
    else if (verdict.certStatus === 'good' && revokedUntil > now) return;
    const prev = this.issued.get(serial);
    this.issued.set(serial, { from: prev && prev.until > now ? prev.from : now, until: Math.max(prev?.until ?? 0, verdict.validUntil) });
  }

  /** Since when a valid response for `serial` has existed without a gap, or null if none exists now. */
  validSince(serial: string, now = Date.now()): number | null {
    const r = this.issued.get(serial.toUpperCase());
    return r && r.until > now ? r.from : null;
  }

  /** The next phase of the schedule: mostly good, with faults of 2–25 s. */
  next(): Phase {
    const total = GOOD_WEIGHT + FAULTS.reduce((s, [, w]) => s + w, 0) + 2;
    let pick = this.prng.next() * total;
    let behaviour: Behaviour | 'down' = 'good';
    if (pick < 2) behaviour = 'down';
    else {
      pick -= 2;
      for (const [b, w] of FAULTS) {
        if (pick < w) {
          behaviour = b;
          break;
        }
        pick -= w;
      }
    }
    const ms = behaviour === 'good' ? 5_000 + this.prng.next() * 25_000 : 2_000 + this.prng.next() * 23_000;
    return { behaviour, ms };
  }

  async apply(phase: Phase): Promise<void> {
    this.phases[phase.behaviour] = (this.phases[phase.behaviour] ?? 0) + 1;
    if (phase.behaviour === 'down') {
      if (!this.down) await this.responder.pauseListening();
      this.down = true;
      return;
    }
    if (this.down) await this.responder.resumeListening();
    this.down = false;
    this.responder.behaviour = phase.behaviour;
  }

  async close(): Promise<void> {
    if (this.down) await this.responder.resumeListening();
    await this.responder.close();
  }
}
