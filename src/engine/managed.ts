// One certificate under management: its facts, its staple, its schedule, its counters.

import { createHash } from 'node:crypto';
import type { Certificate } from '../ocsp/certificate.ts';
import type { Acceptable } from '../ocsp/verify.ts';
import type { TimerHandle } from './clock.ts';
import type { Decision } from './policy.ts';
import type { CertificateState, CertificateStatus } from './types.ts';

export interface Installed {
  readonly der: Buffer;
  readonly verdict: Acceptable;
  readonly fetchedAt: number;
  readonly maxAgeSeconds: number | null;
  readonly source: 'fetch' | 'store';
}

/** A certificate's identity in stores, status and the daemon's state: SHA-256 of its DER, hex. */
export function certificateId(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}

export class ManagedCertificate {
  /** SHA-256 of the DER, hex: the key in stores. */
  readonly id: string;
  /** The DER as a latin1 string: the key for handshake lookups (cheaper than hashing). */
  readonly lookupKey: string;
  staple: Installed | null = null;
  nextRefresh: Decision | null = null;
  refreshTimer: TimerHandle | null = null;
  expiryTimer: TimerHandle | null = null;
  inflight: Promise<void> | null = null;
  failures = 0;
  attempted = false;
  lastError: { reason: string; message: string; at: number } | null = null;
  /** The stored bytes last found unacceptable (so that they are not checked and logged again). */
  rejectedStored: Buffer | null = null;
  readonly counters = { fetches: 0, fetchFailures: 0, stapled: 0, unstapled: 0 };

  constructor(
    readonly cert: Certificate,
    readonly issuer: Certificate | null,
    readonly urls: readonly string[],
  ) {
    this.id = certificateId(cert.der);
    this.lookupKey = Buffer.from(cert.der).toString('latin1');
  }

  get mustStaple(): boolean {
    return this.cert.mustStaple;
  }

  /** Stapleable at all: it has a responder and a known issuer. */
  get fetchable(): boolean {
    return this.urls.length > 0 && this.issuer !== null;
  }

  state(): CertificateState {
    if (this.urls.length === 0) return 'no-responder';
    if (!this.issuer) return 'no-issuer';
    if (this.staple) return this.failures > 0 ? 'stapled-refresh-failing' : 'stapled';
    return this.attempted ? 'unstapled' : 'pending';
  }

  status(): CertificateStatus {
    const s = this.staple;
    return {
      id: this.id,
      subject: this.cert.subject,
      serial: this.cert.serialHex,
      mustStaple: this.mustStaple,
      state: this.state(),
      certStatus: s ? s.verdict.certStatus : null,
      thisUpdate: s ? s.verdict.thisUpdate : null,
      nextUpdate: s ? s.verdict.nextUpdate : null,
      validUntil: s ? s.verdict.validUntil : null,
      source: s ? s.source : null,
      nextRefreshAt: this.nextRefresh?.at ?? null,
      nextRefreshRule: this.nextRefresh?.rule ?? null,
      lastError: this.lastError,
      consecutiveFailures: this.failures,
      counters: { ...this.counters },
    };
  }

  cancelTimers(): void {
    this.refreshTimer?.cancel();
    this.expiryTimer?.cancel();
    this.refreshTimer = null;
    this.expiryTimer = null;
  }
}
