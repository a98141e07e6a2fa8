// How the engine gets a response for a certificate: the interface, and the HTTP implementation
// (responders in AIA order or an override, each answer verified, first acceptable wins).

import { fetchStaple } from '../fetch/fetch-staple.ts';
import { OcspHttpClient } from '../fetch/http.ts';
import type { Certificate } from '../ocsp/certificate.ts';
import type { HashName } from '../ocsp/signature.ts';
import type { VerifySettings } from '../ocsp/verify.ts';

export interface FetchRequest {
  readonly certificate: Certificate;
  readonly issuer: Certificate;
  readonly urls: readonly string[];
  readonly now: () => number;
  readonly signal: AbortSignal;
}

export type FetchOutcome =
  | { readonly ok: true; readonly der: Buffer; readonly url: string; readonly maxAgeSeconds: number | null }
  | { readonly ok: false; readonly reason: string; readonly message: string };

/** The engine verifies whatever a fetcher returns again, so a fetcher cannot slip anything in. */
export interface StapleFetcher {
  fetch(request: FetchRequest): Promise<FetchOutcome>;
  close(): Promise<void>;
}

export interface HttpFetcherSettings {
  readonly timeoutMs: number;
  /** Deadline for one refresh across all of a certificate's responders. */
  readonly deadlineMs: number;
  readonly proxy?: string | undefined;
  readonly maxResponseBytes: number;
  readonly hash: HashName;
  readonly verify: Partial<VerifySettings>;
}

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
      now: request.now,
      signal,
    });
    if (result.accepted) {
      const { der, response } = result.accepted;
      return { ok: true, der, url: response.url, maxAgeSeconds: response.maxAgeSeconds };
    }
    // Report the last failure; each attempt's reason is in the message.
    const parts = result.attempts.map((a) => (a.ok ? `${a.url}: ${a.verdict.ok ? 'ok' : `${a.verdict.reason}: ${a.verdict.message}`}` : a.error.message));
    const last = result.attempts[result.attempts.length - 1];
    const reason = !last ? 'no-attempt' : last.ok ? (last.verdict.ok ? 'ok' : last.verdict.reason) : `fetch-${last.error.reason}`;
    return { ok: false, reason, message: parts.join('; ') };
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
