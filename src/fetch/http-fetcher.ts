// The engine's default fetcher: responders in AIA order (or an override) over HTTP, each answer
// judged by the engine (request.verify), the first acceptable one wins.

import { printable } from '../ocsp/printable.ts';
import type { HashName } from '../ocsp/signature.ts';
import type { VerifySettings } from '../ocsp/verify.ts';
import { fetchStaple, type Attempt } from './fetch-staple.ts';
import { OcspHttpClient } from './http.ts';
import type { FailureReason, FetchOutcome, FetchRequest, StapleFetcher } from './staple-fetcher.ts';

/** Options of HttpFetcher. */
export interface HttpFetcherSettings {
  readonly timeoutMs: number;
  /** Deadline for one refresh across all of a certificate's responders. */
  readonly deadlineMs: number;
  readonly proxy?: string | undefined;
  readonly maxResponseBytes: number;
  readonly hash: HashName;
  /** Verification settings for a request that brings no judge (the fetcher used without the engine). */
  readonly verify: Partial<VerifySettings>;
}

/** The built-in fetcher: asks each responder over HTTP (GET when short, else POST), with timeouts, a size cap and an optional proxy. */
export class HttpFetcher implements StapleFetcher {
  private readonly client: OcspHttpClient;

  constructor(private readonly settings: HttpFetcherSettings) {
    this.client = new OcspHttpClient({ timeoutMs: settings.timeoutMs, proxy: settings.proxy, maxResponseBytes: settings.maxResponseBytes });
  }

  async fetch(request: FetchRequest): Promise<FetchOutcome> {
    const signal = AbortSignal.any([request.signal, AbortSignal.timeout(this.settings.deadlineMs)]);
    const result = await fetchStaple({
      certificate: request.certificate,
      issuer: request.issuer,
      client: this.client,
      urls: request.urls,
      hash: this.settings.hash,
      verify: this.settings.verify,
      ...(request.verify ? { judge: request.verify } : {}),
      now: request.now,
      signal,
    });
    if (result.accepted) {
      const { der, response } = result.accepted;
      return { ok: true, der, url: response.url, maxAgeSeconds: response.maxAgeSeconds };
    }
    // Report the last failure's reason; each attempt's reason is in the message.
    const parts = result.attempts.map((a) =>
      a.ok ? `${printable(a.url)}: ${a.verdict.ok ? 'ok' : `${a.verdict.reason}: ${a.verdict.message}`}` : a.error.message,
    );
    return { ok: false, reason: reasonOf(result.attempts[result.attempts.length - 1]), message: parts.join('; ') || 'no responder was asked' };
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

function reasonOf(last: Attempt | undefined): FailureReason {
  if (!last) return 'internal';
  if (!last.ok) return `fetch-${last.error.reason}`;
  return last.verdict.ok ? 'internal' : last.verdict.reason;
}
