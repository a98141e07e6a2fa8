// Checking responder and proxy URLs: pure, so that option checking loads no HTTP client. A URL
// may come from a certificate: messages show it escaped.

import { printable } from '../ocsp/printable.ts';

/** What is wrong with a responder (or proxy) URL, or null: absolute http(s), no credentials. */
export function responderUrlProblem(raw: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    return `"${printable(raw)}" is not a valid URL`;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `"${printable(raw)}" must be an http:// or https:// URL`;
  if (parsed.username || parsed.password) return `"${printable(raw)}" must not carry credentials`;
  return null;
}

/**
 * What is wrong with a proxy URL, or null: as for a responder, and plain http:, since requests go
 * to the proxy in absolute form (undici would tunnel through an https: proxy, with a raw
 * deprecation warning on Node 20).
 */
export function proxyUrlProblem(raw: string): string | null {
  const problem = responderUrlProblem(raw);
  if (problem) return problem;
  return new URL(raw).protocol === 'http:' ? null : `"${printable(raw)}" must be a plain http:// proxy URL (https: proxies are not supported)`;
}
