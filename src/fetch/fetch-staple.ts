// Fetch a response for one certificate and verify it: responders in AIA order (or an
// override), first acceptable answer wins. Every attempt is reported, for logs and the CLI.

import { randomBytes } from 'node:crypto';
import type { Certificate } from '../ocsp/certificate.ts';
import { buildRequest, certIdFor, NONCE_MAX_BYTES } from '../ocsp/request.ts';
import type { HashName } from '../ocsp/signature.ts';
import { verifyResponseAsync, type Verdict, type VerifySettings } from '../ocsp/verify.ts';
import { FetchError, type FetchedResponse, type OcspHttpClient } from './http.ts';

export interface FetchStapleInput {
  readonly certificate: Certificate;
  readonly issuer: Certificate;
  readonly client: OcspHttpClient;
  /** Responder URLs to ask, in order; default: the certificate's AIA OCSP URLs. */
  readonly urls?: readonly string[];
  readonly hash?: HashName;
  /** Send a fresh random nonce and require it back (defeats caching: off by default). */
  readonly nonce?: boolean;
  readonly verify?: Partial<VerifySettings>;
  /** Who judges each answer (the engine's own verification); default: the core's, with `verify`'s settings. */
  readonly judge?: (der: Buffer, nonce: Uint8Array | undefined) => Promise<Verdict>;
  /** The clock for verification: read when each answer arrives. */
  readonly now: () => number;
  readonly signal?: AbortSignal;
}

export type Attempt =
  | { readonly url: string; readonly ok: true; readonly response: FetchedResponse; readonly verdict: Verdict }
  | { readonly url: string; readonly ok: false; readonly error: FetchError };

export interface FetchStapleResult {
  /** The acceptable response, if any responder gave one. */
  readonly accepted: { readonly der: Buffer; readonly verdict: Verdict & { ok: true }; readonly response: FetchedResponse } | null;
  readonly attempts: readonly Attempt[];
}

export class NoResponderError extends Error {
  override readonly name = 'NoResponderError';
}

export async function fetchStaple(input: FetchStapleInput): Promise<FetchStapleResult> {
  const urls = input.urls?.length ? input.urls : input.certificate.ocspUrls;
  if (urls.length === 0)
    throw new NoResponderError(`certificate "${input.certificate.subject}" (serial ${input.certificate.serialHex}) names no OCSP responder`);
  const id = certIdFor(input.certificate, input.issuer, input.hash ?? 'sha1');
  const nonce = input.nonce ? randomBytes(NONCE_MAX_BYTES) : undefined;
  const request = buildRequest(id, nonce ? { nonce } : {});
  const attempts: Attempt[] = [];
  for (const url of urls) {
    try {
      const response = await input.client.fetch(url, request, input.signal);
      const verdict = input.judge
        ? await input.judge(response.body, nonce)
        : await verifyResponseAsync(response.body, {
            certificate: input.certificate,
            issuer: input.issuer,
            now: input.now(),
            settings: { maxResponseBytes: input.client.settings.maxResponseBytes, ...input.verify, nonce },
          });
      attempts.push({ url, ok: true, response, verdict });
      if (verdict.ok) return { accepted: { der: response.body, verdict, response }, attempts };
    } catch (err) {
      if (!(err instanceof FetchError)) throw err;
      attempts.push({ url, ok: false, error: err });
    }
  }
  return { accepted: null, attempts };
}
