// How the engine gets a response for a certificate: the interface it is given, and the typed
// reasons a refresh can fail for (the core's rejection reasons and the transport's).

import type { Certificate } from '../ocsp/certificate.ts';
import { REJECT_REASONS, type RejectReason } from '../ocsp/verify.ts';
import { FETCH_FAILURES, type FetchFailure } from './http.ts';

/** Why a refresh failed: the core's verdict, a transport failure, or a bug caught at the boundary. */
export type FailureReason = RejectReason | `fetch-${FetchFailure}` | 'internal';

/** Every reason a refresh can fail for (the `reason` of `lastError`, and a metric label). */
export const FAILURE_REASONS: readonly FailureReason[] = [...REJECT_REASONS, ...FETCH_FAILURES.map((f) => `fetch-${f}` as const), 'internal'];

/** What a fetcher is asked: the certificate and its issuer, the responders to try, the time and an abort signal. */
export interface FetchRequest {
  readonly certificate: Certificate;
  readonly issuer: Certificate;
  readonly urls: readonly string[];
  readonly now: () => number;
  readonly signal: AbortSignal;
}

/** What a fetch gives: an acceptable response and the responder that sent it, or why none was. */
export type FetchOutcome =
  | { readonly ok: true; readonly der: Buffer; readonly url: string; readonly maxAgeSeconds: number | null }
  | { readonly ok: false; readonly reason: FailureReason; readonly message: string };

/** The engine verifies whatever a fetcher returns again, so a fetcher cannot slip anything in. */
export interface StapleFetcher {
  fetch(request: FetchRequest): Promise<FetchOutcome>;
  close(): Promise<void>;
}
