// How the engine gets a response for a certificate: the interface it is given, and the typed
// reasons a refresh can fail for (the core's rejection reasons and the transport's).

import type { Certificate } from '../ocsp/certificate.ts';
import { REJECT_REASONS, type RejectReason, type Verdict } from '../ocsp/verify.ts';
import { FETCH_FAILURES, type FetchFailure } from './http.ts';

/** Why a refresh failed: the core's verdict, a transport failure, or a bug caught at the boundary. */
export type FailureReason = RejectReason | `fetch-${FetchFailure}` | 'internal';

/** Every reason a refresh can fail for (the `reason` of `lastError`, and a metric label). */
export const FAILURE_REASONS: readonly FailureReason[] = [...REJECT_REASONS, ...FETCH_FAILURES.map((f) => `fetch-${f}` as const), 'internal'];

/** The engine's judgement of a response for the certificate asked about (`nonce`: the one sent, if any). */
export type ResponseJudge = (der: Buffer, nonce?: Uint8Array) => Promise<Verdict>;

/** What a fetcher is asked: the certificate and its issuer, the responders to try, the time, an abort signal, and the engine's judge. */
export interface FetchRequest {
  readonly certificate: Certificate;
  readonly issuer: Certificate;
  readonly urls: readonly string[];
  readonly now: () => number;
  readonly signal: AbortSignal;
  /** Judge each answer with this (the engine always gives it): a response it accepted is not verified again. */
  readonly verify?: ResponseJudge;
}

/** What a fetch gives: an acceptable response and the responder that sent it, or why none was. */
export type FetchOutcome =
  | { readonly ok: true; readonly der: Buffer; readonly url: string; readonly maxAgeSeconds: number | null }
  | { readonly ok: false; readonly reason: FailureReason; readonly message: string };

/**
 * The engine staples only bytes it verified itself: through `request.verify` while the fetcher
 * chose among its answers, or, for anything else a fetcher returns, once more on its return.
 * A fetcher cannot slip anything in.
 */
export interface StapleFetcher {
  fetch(request: FetchRequest): Promise<FetchOutcome>;
  close(): Promise<void>;
}
