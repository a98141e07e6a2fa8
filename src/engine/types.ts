// The engine's public types: settings, status, events.

import type { HashName } from '../ocsp/signature.ts';
import type { FailureReason } from '../fetch/staple-fetcher.ts';
import type { RefreshSettings } from './policy.ts';
import type { OutputHealth, Verdict } from './verdict.ts';

/**
 * The engine's settings: plain values, checked by one table (options.ts) that the library and
 * the daemon's configuration share. What the engine is given rather than choosing (store,
 * fetcher, logger, clock) is in EngineDependencies; the library's StaplerOptions adds those.
 */
export interface EngineSettings {
  /** Per-responder request timeout (default 5 s). */
  readonly timeoutMs?: number;
  /** Deadline for one refresh across all of a certificate's responders (default 15 s). */
  readonly deadlineMs?: number;
  /** Ask these responders instead of the certificates' AIA URLs. */
  readonly responderUrls?: readonly string[];
  /** Per-issuer responder override: keys are the issuer's subject (RFC 4514) or its SHA-256 fingerprint (hex). */
  readonly responderUrlsByIssuer?: Readonly<Record<string, readonly string[]>>;
  /** Plain-HTTP proxy for responder requests. */
  readonly proxy?: string;
  /** When to refresh and how to back off (see RefreshSettings). */
  readonly refresh?: Partial<RefreshSettings>;
  /** Clock skew allowed for thisUpdate (default 5 min). */
  readonly skewMs?: number;
  /** Lifetime of a response that has no nextUpdate (default 1 h). */
  readonly maxAgeWithoutNextUpdateMs?: number;
  /** Largest response accepted (default 64 KiB). */
  readonly maxResponseBytes?: number;
  /** Accept responses signed with SHA-1 (refused by default). */
  readonly allowSha1Signatures?: boolean;
  /** CertID hash (default SHA-1: what responders and clients expect). */
  readonly hash?: HashName;
  /** Fetches running at once, across all certificates and responders (default 64). */
  readonly concurrency?: number;
  /** Fetches running at once to one responder origin (default 8): a hung responder holds these slots only. */
  readonly responderConcurrency?: number;
  /** Fetches started per second to one responder origin, evenly spaced (default 200; 0: no limit). */
  readonly responderRatePerSecond?: number;
  /** How long one process may hold a certificate's refresh lease in a shared store (default 30 s). */
  readonly leaseTtlMs?: number;
}

/** Where a certificate stands: stapled, unstapled, pending, or why it cannot be stapled. */
export type CertificateState =
  /** No OCSP URL: nothing to staple (a quiet no-op). */
  | 'no-responder'
  /** The issuer is unknown: no request can be built. */
  | 'no-issuer'
  /** Registered; the first fetch has not completed. */
  | 'pending'
  /** Stapling an acceptable response. */
  | 'stapled'
  /** Stapling an acceptable response; the last refresh failed and is being retried. */
  | 'stapled-refresh-failing'
  /** No acceptable response (never had one, or it expired); fetching goes on. */
  | 'unstapled';

/**
 * A certificate as the engine sees it, with its verdict (see verdict.ts: `verdict`, `summary`,
 * `serving`, `atRisk`, `problems`), judged once here so that every face reads the same facts.
 */
export interface CertificateStatus extends Verdict {
  /** SHA-256 of the certificate's DER, hex: its identity in stores and status. */
  readonly id: string;
  readonly subject: string;
  readonly serial: string;
  readonly mustStaple: boolean;
  /** The OCSP responder URLs it is fetched from (empty: none). */
  readonly responders: readonly string[];
  /** The certificate's own expiry (ms since the epoch). */
  readonly notAfter: number;
  readonly state: CertificateState;
  readonly certStatus: 'good' | 'revoked' | null;
  readonly thisUpdate: number | null;
  readonly nextUpdate: number | null;
  /** When the staple stops being served. */
  readonly validUntil: number | null;
  readonly source: 'fetch' | 'store' | null;
  readonly nextRefreshAt: number | null;
  readonly nextRefreshRule: string | null;
  readonly lastError: { readonly reason: FailureReason; readonly message: string; readonly at: number } | null;
  readonly consecutiveFailures: number;
  readonly counters: { readonly fetches: number; readonly fetchFailures: number; readonly stapled: number; readonly unstapled: number };
  /** The health of what is written for it (empty from the engine: the daemon fills it, and judges again). */
  readonly outputs: readonly OutputHealth[];
}

/** The events a Stapler emits, each with the certificate's status. */
export interface StaplerEvents {
  /** A new acceptable response is being stapled. */
  updated: [CertificateStatus];
  /** The responder says the certificate is revoked (the response is stapled: passing it on is the point). */
  revoked: [CertificateStatus];
  /** The staple reached its end of validity and was removed. */
  expired: [CertificateStatus];
  refreshFailed: [CertificateStatus];
  /** A Must-Staple certificate has no staple, or its staple will expire before the next retry. */
  mustStapleAtRisk: [CertificateStatus];
}

/** What `ready()` resolves with: which certificates are stapled, and which are not. */
export interface ReadyReport {
  readonly stapled: readonly CertificateStatus[];
  readonly noResponder: readonly CertificateStatus[];
  /** Certificates that could not be stapled in time (none of them Must-Staple). */
  readonly unstapled: readonly CertificateStatus[];
}

/** What the engine holds for an OCSP CertID (the daemon's responder answers from it; cheap: no full status). */
export interface CertIdLookup {
  /** The certificate's id (its status `id`). */
  readonly id: string;
  readonly serial: string;
  readonly state: CertificateState;
  /** The acceptable staple (DER, as fetched), or null: none yet, or it expired. */
  readonly staple: Buffer | null;
  /** The hash algorithms of the staple's CertIDs for this certificate (empty without a staple). */
  readonly certIdHashes: readonly HashName[];
  /** Of the staple held (null without one). */
  readonly thisUpdate: number | null;
  readonly nextUpdate: number | null;
  readonly validUntil: number | null;
  /** The next fetch (a refresh, or a retry), or null if none is planned. */
  readonly nextRefreshAt: number | null;
  /** The engine's clock when it looked (for the caching headers). */
  readonly now: number;
}
