// Talking to OCSP responders over HTTP with undici: GET when the URL is short, else POST;
// a hard total deadline; a body cap; an optional plain-HTTP proxy.

import { Agent, ProxyAgent, request, type Dispatcher } from 'undici';
import { getUrlIfShort } from '../ocsp/request.ts';
import { printable } from '../ocsp/printable.ts';
import { proxyUrlProblem, responderUrlProblem } from './url.ts';

export { responderUrlProblem };

export const FETCH_FAILURES = ['bad-url', 'timeout', 'network', 'http-status', 'content-type', 'too-large'] as const;
export type FetchFailure = (typeof FETCH_FAILURES)[number];

export class FetchError extends Error {
  override readonly name = 'FetchError';
  constructor(
    readonly reason: FetchFailure,
    readonly url: string,
    detail: string,
  ) {
    // The URL comes from a certificate: shown escaped.
    super(`${printable(url)}: ${detail}`);
  }
}

export interface HttpFetchSettings {
  /** Total deadline for one request: connect, headers and body together. */
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  /** A plain-HTTP proxy URL, e.g. http://proxy:3128. */
  readonly proxy?: string | undefined;
}

export const DEFAULT_HTTP_FETCH_SETTINGS: HttpFetchSettings = { timeoutMs: 5_000, maxResponseBytes: 64 * 1024 };

export interface FetchedResponse {
  readonly body: Buffer;
  /** The responder URL asked (without the GET-encoded request). */
  readonly url: string;
  readonly method: 'GET' | 'POST';
  /** Cache-Control max-age in seconds, when the responder sent one (RFC 9919 §6). */
  readonly maxAgeSeconds: number | null;
}

/** One HTTP client per process (or per engine): a shared connection pool with bounded timeouts. */
export class OcspHttpClient {
  private readonly dispatcher: Dispatcher;
  readonly settings: HttpFetchSettings;

  constructor(settings: Partial<HttpFetchSettings> = {}) {
    this.settings = { ...DEFAULT_HTTP_FETCH_SETTINGS, ...settings };
    const { timeoutMs, maxResponseBytes, proxy } = this.settings;
    const common = { connectTimeout: timeoutMs, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, maxResponseSize: maxResponseBytes };
    if (proxy) {
      const problem = proxyUrlProblem(proxy);
      if (problem) throw new FetchError('bad-url', proxy, `proxy ${problem}`);
      // Absolute-form requests: many proxies refuse CONNECT to port 80.
      this.dispatcher = new ProxyAgent({ uri: proxy, proxyTunnel: false, ...common });
    } else {
      this.dispatcher = new Agent(common);
    }
  }

  /** Send `requestDer` to `responderUrl`; the body comes back unverified. Throws FetchError. */
  async fetch(responderUrl: string, requestDer: Uint8Array, signal?: AbortSignal): Promise<FetchedResponse> {
    const problem = responderUrlProblem(responderUrl);
    if (problem) throw new FetchError('bad-url', responderUrl, problem);
    const getUrl = getUrlIfShort(responderUrl, requestDer);
    const method = getUrl ? 'GET' : 'POST';
    const url = getUrl ?? responderUrl;
    const deadline = AbortSignal.timeout(this.settings.timeoutMs);
    const combined = signal ? AbortSignal.any([deadline, signal]) : deadline;
    try {
      const res = await request(url, {
        method,
        dispatcher: this.dispatcher,
        signal: combined,
        headers:
          method === 'POST' ? { 'content-type': 'application/ocsp-request', accept: 'application/ocsp-response' } : { accept: 'application/ocsp-response' },
        ...(method === 'POST' ? { body: Buffer.from(requestDer) } : {}),
      });
      if (res.statusCode !== 200) {
        await res.body.dump();
        throw new FetchError('http-status', responderUrl, `responder answered HTTP ${res.statusCode} to ${method}`);
      }
      const type = String(res.headers['content-type'] ?? '')
        .split(';')[0]!
        .trim()
        .toLowerCase();
      if (type !== 'application/ocsp-response') {
        await res.body.dump();
        throw new FetchError('content-type', responderUrl, `responder sent content-type "${type || '(none)'}", not application/ocsp-response`);
      }
      const length = Number(res.headers['content-length'] ?? NaN);
      if (length > this.settings.maxResponseBytes) {
        res.body.destroy();
        throw new FetchError('too-large', responderUrl, `response of ${length} bytes is over the ${this.settings.maxResponseBytes}-byte limit`);
      }
      const body = await readCapped(res.body, this.settings.maxResponseBytes, responderUrl);
      return { body, url: responderUrl, method, maxAgeSeconds: maxAge(res.headers['cache-control']) };
    } catch (err) {
      throw toFetchError(err, responderUrl, this.settings, deadline.aborted);
    }
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}

async function readCapped(body: AsyncIterable<Buffer> & { destroy(): unknown }, cap: number, url: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.length;
    if (total > cap) {
      body.destroy();
      throw new FetchError('too-large', url, `response is over the ${cap}-byte limit`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function maxAge(header: string | string[] | undefined): number | null {
  const value = Array.isArray(header) ? header.join(',') : header;
  if (!value) return null;
  if (/(^|,)\s*(no-cache|no-store)\s*(,|$)/i.test(value)) return 0;
  const m = /(?:^|,)\s*max-age\s*=\s*"?(\d{1,10})"?\s*(?:,|$)/i.exec(value);
  return m ? Number(m[1]) : null;
}

function toFetchError(err: unknown, url: string, settings: HttpFetchSettings, deadlineHit: boolean): FetchError {
  if (err instanceof FetchError) return err;
  const e = err as { name?: string; code?: string; message?: string };
  if (deadlineHit || e.name === 'TimeoutError' || /Timeout/.test(e.name ?? '') || e.code === 'UND_ERR_CONNECT_TIMEOUT') {
    return new FetchError('timeout', url, `no complete response within ${settings.timeoutMs} ms`);
  }
  if (e.name === 'ResponseExceededMaxSizeError' || e.code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') {
    return new FetchError('too-large', url, `response is over the ${settings.maxResponseBytes}-byte limit`);
  }
  if (e.name === 'AbortError') return new FetchError('timeout', url, 'request aborted');
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return new FetchError(
    'network',
    url,
    `request failed: ${cause?.code ?? e.code ?? ''} ${cause?.message ?? e.message ?? String(err)}`.replace(/\s+/g, ' ').trim(),
  );
}
