// One certificate under management: its facts, its lifecycle state, the driver's handles (timers,
// the fetch in flight), and the handshake counters (kept apart: they change on the hot path).

import { createHash } from 'node:crypto';
import type { Certificate } from '../ocsp/certificate.ts';
import type { TimerHandle } from './clock.ts';
import { INITIAL_LIFECYCLE, type Lifecycle, type Staple } from './lifecycle.ts';
import type { CertIdLookup, CertificateState, CertificateStatus } from './types.ts';
import { judge } from './verdict.ts';

/** A certificate's identity in stores, status and the daemon's state: SHA-256 of its DER, hex. */
export function certificateId(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}

/** A certificate's DER as a string: an exact key, for the few CA certificates. */
export function derKey(der: Uint8Array): string {
  return Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('latin1');
}

/**
 * The key for handshake lookups: the DER's last 32 bytes, inside its signature, so distinct for
 * distinct certificates. A whole-DER string key cost a kilobyte per certificate (outside the
 * heap, as an external string); the lookup compares the whole DER on every hit instead.
 */
export function lookupKeyOf(der: Uint8Array): string {
  const n = Math.min(32, der.byteLength);
  return Buffer.from(der.buffer, der.byteOffset + der.byteLength - n, n).toString('latin1');
}

const NO_OUTPUTS: readonly never[] = Object.freeze([]);

export class ManagedCertificate {
  readonly id: string;
  readonly lookupKey: string;
  life: Lifecycle = INITIAL_LIFECYCLE;
  refreshTimer: TimerHandle | null = null;
  expiryTimer: TimerHandle | null = null;
  inflight: Promise<void> | null = null;
  /**
   * Digests of the stored copies last found unacceptable (a few: one per tier, and what came
   * before), so that they are neither checked nor logged again, and not fought over.
   */
  rejectedStored: readonly string[] = [];
  /** Its responder URLs were given for it alone (not derived from AIA and the overrides). */
  urlOverride = false;
  stapledHandshakes = 0;
  unstapledHandshakes = 0;

  constructor(
    readonly cert: Certificate,
    /** Null until the issuer is known; a chain added later may complete it. */
    public issuer: Certificate | null,
    public urls: readonly string[],
  ) {
    this.id = certificateId(cert.der);
    this.lookupKey = lookupKeyOf(cert.der);
  }

  get mustStaple(): boolean {
    return this.cert.mustStaple;
  }

  /** Stapleable at all: it has a responder and a known issuer. */
  get fetchable(): boolean {
    return this.urls.length > 0 && this.issuer !== null;
  }

  /** Who this is, in every log line about it. */
  get who(): { subject: string; serial: string } {
    return { subject: this.cert.subject, serial: this.cert.serialHex };
  }

  state(): CertificateState {
    if (this.urls.length === 0) return 'no-responder';
    if (!this.issuer) return 'no-issuer';
    const { staple, failures, attempted } = this.life;
    if (staple) return failures > 0 ? 'stapled-refresh-failing' : 'stapled';
    return attempted ? 'unstapled' : 'pending';
  }

  /**
   * The staple if it is still valid at `at`, else null: the one rule for "drop at expiry" (the
   * expiry timer removes it; this check also covers a timer that fired late). A face that takes
   * time to pass a staple on (a server's reload) asks about a later `at`.
   */
  servableAt(at: number): Staple | null {
    const s = this.life.staple;
    return s && at < s.verdict.validUntil ? s : null;
  }

  /** What the daemon's responder needs, cheaply: the staple still valid `validForMs` after `now`, its times and CertID hashes. */
  lookup(now: number, validForMs = 0): CertIdLookup {
    const s = this.servableAt(now + validForMs);
    const v = s?.verdict;
    return {
      id: this.id,
      serial: this.cert.serialHex,
      state: this.state(),
      staple: s?.der ?? null,
      certIdHashes: v?.certIdHashes ?? [],
      thisUpdate: v?.thisUpdate ?? null,
      nextUpdate: v ? v.nextUpdate : null,
      validUntil: v?.validUntil ?? null,
      nextRefreshAt: this.life.nextRefresh?.at ?? null,
      now,
    };
  }

  /** Its status, judged at `now` (the engine's clock). One object literal: a scrape builds 100,000 of them. */
  status(now: number): CertificateStatus {
    const { staple: s, nextRefresh, lastError, failures, fetches, fetchFailures } = this.life;
    const state = this.state();
    const certStatus = s ? s.verdict.certStatus : null;
    const validUntil = s ? s.verdict.validUntil : null;
    const nextRefreshAt = nextRefresh?.at ?? null;
    const v = judge({ state, certStatus, mustStaple: this.mustStaple, validUntil, nextRefreshAt, lastError }, now);
    return {
      id: this.id,
      subject: this.cert.subject,
      serial: this.cert.serialHex,
      mustStaple: this.mustStaple,
      responders: this.urls,
      notAfter: this.cert.notAfter,
      state,
      certStatus,
      thisUpdate: s ? s.verdict.thisUpdate : null,
      nextUpdate: s ? s.verdict.nextUpdate : null,
      validUntil,
      source: s ? s.source : null,
      nextRefreshAt,
      nextRefreshRule: nextRefresh?.rule ?? null,
      lastError,
      consecutiveFailures: failures,
      counters: { fetches, fetchFailures, stapled: this.stapledHandshakes, unstapled: this.unstapledHandshakes },
      outputs: NO_OUTPUTS,
      verdict: v.verdict,
      summary: v.summary,
      serving: v.serving,
      atRisk: v.atRisk,
      problems: v.problems,
    };
  }

  cancelTimers(): void {
    this.refreshTimer?.cancel();
    this.expiryTimer?.cancel();
    this.refreshTimer = null;
    this.expiryTimer = null;
  }
}
