// The daemon's OCSP responder (RFC 6960 appendix A, RFC 5019): it answers from memory with the
// staple the engine has verified, for the certificates the daemon manages. Never a network fetch
// on the request path, never a made-up answer:
// - an acceptable staple: 200, the DER as fetched, RFC 5019 caching headers, 304 on If-None-Match;
// - a managed certificate without one: 503 with Retry-After (not a tryLater: Apache and others
//   would staple a made-up tryLater, and an HTTP error is what makes them keep their last good one);
// - a CertID it does not manage: OCSP "unauthorized" (RFC 6960 §2.3), logged once per CertID;
// - a managed certificate asked with another CertID hash than the staple's: "unauthorized" too,
//   never the staple (mod_ssl, the JDK and openssl compare the CertID and reject a mismatch);
// - a malformed request: OCSP "malformedRequest" with HTTP 200. RFC 6960 §2.3 makes errors OCSP
//   responses, and OpenSSL, Boulder and EJBCA answer them with 200: clients read the OCSP status.
// - several CertIDs in one request: malformedRequest. RFC 5019 §2.1.1 allows one; a staple is one
//   response signed for one certificate and cannot answer for two (Boulder answers the same). The
//   list is refused at its second CertID (parseForResponder), not read in full.
// - a nonce: ignored, answered from the cache (RFC 8954 allows it; a staple cannot echo a nonce).

import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../../engine/logger.ts';
import type { CertIdLookup } from '../../engine/types.ts';
import { DerError } from '../../ocsp/der.ts';
import { REQUEST_CAPS } from '../../ocsp/request-parse.ts';
import type { CertId } from '../../ocsp/request.ts';
import type { HashName } from '../../ocsp/signature.ts';
import { plain } from './listener.ts';
import { parseForResponder, requestFromPath, type GetOutcome } from './ocsp-get.ts';
import { RequestMemo } from './request-memo.ts';
import { UnknownCertIds } from './ocsp-unknown.ts';
import type { HttpRoute } from './route.ts';

/** What became of one request, for counters and metrics. */
export const OCSP_RESULTS = [
  'stapled',
  'not-modified',
  'unavailable',
  'unauthorized',
  'hash-mismatch',
  'malformed',
  'too-large',
  'unsupported-media-type',
] as const;
export type OcspResult = (typeof OCSP_RESULTS)[number];

/** Called once per answered request with its result and the time it took (ms). Must not throw. */
export type OcspObserver = (result: OcspResult, ms: number) => void;

export const OCSP_LIMITS = {
  /** POST bodies past this get 413 and are not read further. */
  maxBodyBytes: REQUEST_CAPS.maxBytes,
  /** Retry-After on a 503 stays within these (seconds). */
  minRetryAfterS: 1,
  maxRetryAfterS: 300,
} as const;

/** The 5-byte OCSPResponse with only a responseStatus (RFC 6960 §4.2.1). */
const statusOnly = (status: number): Buffer => Buffer.from([0x30, 0x03, 0x0a, 0x01, status]);
export const MALFORMED_REQUEST = statusOnly(1);
export const UNAUTHORIZED = statusOnly(6);

export interface OcspRouteOptions {
  /** The engine's answer for a CertID; looked up per request (a SIGHUP may replace the engine). */
  readonly lookup: (id: CertId) => CertIdLookup | null;
  readonly log: Logger;
  readonly observer?: OcspObserver | undefined;
}

export class OcspRoute implements HttpRoute {
  readonly name = 'ocsp';
  readonly paths = null;
  readonly methods = ['GET', 'POST'] as const;
  /** Requests answered, by result. */
  readonly counts: Record<OcspResult, number> = Object.fromEntries(OCSP_RESULTS.map((r) => [r, 0])) as Record<OcspResult, number>;
  readonly unknown: UnknownCertIds;
  /** Set or replace the observer after construction (the metrics are wired later). */
  observer: OcspObserver | undefined;
  private readonly fixed = new WeakMap<Buffer, Record<string, string>>();
  /** "certificate id, hash algorithm" pairs whose mismatch was logged: one line each, not one per request. */
  private readonly mismatchLogged = new Set<string>();
  /** Requests already parsed (only well-formed ones are kept): GET paths, and POST bodies as latin1 text. */
  readonly parsed = new RequestMemo<GetOutcome>();

  constructor(private readonly options: OcspRouteOptions) {
    this.unknown = new UnknownCertIds(options.log);
    this.observer = options.observer;
  }

  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const started = performance.now();
    const result =
      req.method === 'POST'
        ? await this.post(req, res)
        : this.answer(
            this.parsed.get(`G${path}`, () => requestFromPath(path), isWellFormed),
            req,
            res,
          );
    this.counts[result]++;
    try {
      this.observer?.(result, performance.now() - started);
    } catch (err) {
      this.options.log.error({ err: err instanceof Error ? err.message : String(err) }, 'the OCSP route observer threw; ignoring it');
    }
  }

  private async post(req: IncomingMessage, res: ServerResponse): Promise<OcspResult> {
    const type = (req.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
    // No Content-Type is let through (the body is checked anyway); another type is a client bug.
    if (type !== '' && type !== 'application/ocsp-request') {
      closing(res, 415, `Content-Type ${type.slice(0, 100)} is not application/ocsp-request\n`);
      return 'unsupported-media-type';
    }
    const body = await readBody(req, OCSP_LIMITS.maxBodyBytes);
    if (body === null) {
      closing(res, 413, `an OCSP request is at most ${OCSP_LIMITS.maxBodyBytes} bytes\n`);
      return 'too-large';
    }
    return this.answer(
      this.parsed.get(`P${body.toString('latin1')}`, () => parseBody(body), isWellFormed),
      req,
      res,
    );
  }

  private answer(parsed: GetOutcome, req: IncomingMessage, res: ServerResponse): OcspResult {
    if (!parsed.ok || parsed.request.certIds.length !== 1) {
      const reason = parsed.ok ? `${parsed.request.certIds.length} CertIDs in one request (RFC 5019 allows one)` : parsed.reason;
      this.options.log.debug({ method: req.method, reason }, 'malformed OCSP request: answered "malformedRequest"');
      ocsp(res, 200, MALFORMED_REQUEST, { 'Cache-Control': 'no-store' });
      return 'malformed';
    }
    const id = parsed.request.certIds[0]!;
    const status = this.options.lookup(id);
    if (!status) {
      this.unknown.record(id);
      ocsp(res, 200, UNAUTHORIZED, { 'Cache-Control': 'no-store' });
      return 'unauthorized';
    }
    const { staple, now } = status;
    if (!staple) {
      const retryAt = status.nextRefreshAt ?? now;
      const retryAfter = Math.min(OCSP_LIMITS.maxRetryAfterS, Math.max(OCSP_LIMITS.minRetryAfterS, Math.ceil((retryAt - now) / 1000)));
      plain(res, 503, `no verified OCSP response for serial ${status.serial} yet (state: ${status.state})\n`, {
        'Retry-After': String(retryAfter),
        'Cache-Control': 'no-store',
      });
      return 'unavailable';
    }
    if (!status.certIdHashes.includes(id.hash)) {
      this.warnHashMismatch(status, id.hash);
      ocsp(res, 200, UNAUTHORIZED, { 'Cache-Control': 'no-store' });
      return 'hash-mismatch';
    }
    const validUntil = status.validUntil ?? now;
    // Not past the next refresh (a cache then asks again and gets the newer staple), never past validity.
    const freshUntil = Math.min(status.nextRefreshAt ?? validUntil, validUntil);
    const headers: Record<string, string> = {
      ...this.fixedHeaders(staple, status.thisUpdate, status.nextUpdate ?? validUntil),
      'Cache-Control': `max-age=${Math.max(0, Math.floor((freshUntil - now) / 1000))}, public, no-transform, must-revalidate`,
    };
    if (etagMatches(req.headers['if-none-match'], headers.ETag!)) {
      res.writeHead(304, headers);
      res.end();
      return 'not-modified';
    }
    ocsp(res, 200, staple, headers);
    return 'stapled';
  }

  /** The staple names the certificate by other CertID hashes than the client's: clients compare the whole CertID, so it cannot be served. */
  private warnHashMismatch(found: CertIdLookup, hash: HashName): void {
    const key = `${found.id}\u0000${hash}`;
    if (this.mismatchLogged.has(key)) return;
    this.mismatchLogged.add(key);
    const name = (h: HashName): string => h.toUpperCase().replace('SHA', 'SHA-');
    this.options.log.warn(
      { serial: found.serial, requestHash: hash, stapleHash: found.certIdHashes },
      `a client asks with ${name(hash)} CertIDs; the staple (from the CA) names the certificate with ${found.certIdHashes.map(name).join(', ')}: ` +
        `set \`hash: ${hash}\` in the daemon's configuration to fetch with ${name(hash)} CertIDs (answered "unauthorized")`,
    );
  }

  /** ETag, Last-Modified (thisUpdate) and Expires (nextUpdate): fixed by the staple's bytes, so made once per staple. */
  private fixedHeaders(der: Buffer, thisUpdate: number | null, expires: number): Readonly<Record<string, string>> {
    let h = this.fixed.get(der);
    if (!h) {
      h = { ETag: `"${createHash('sha256').update(der).digest('hex').slice(0, 32)}"`, Expires: new Date(expires).toUTCString() };
      if (thisUpdate !== null) h['Last-Modified'] = new Date(thisUpdate).toUTCString();
      this.fixed.set(der, h);
    }
    return h;
  }
}

function parseBody(body: Buffer): GetOutcome {
  try {
    return { ok: true, request: parseForResponder(body) };
  } catch (err) {
    if (!(err instanceof DerError)) throw err;
    return { ok: false, reason: err.message };
  }
}

const isWellFormed = (o: GetOutcome): boolean => o.ok;

function ocsp(res: ServerResponse, status: number, body: Buffer, headers: Record<string, string>): void {
  res.writeHead(status, { 'Content-Type': 'application/ocsp-response', 'Content-Length': body.length, ...headers });
  res.end(body);
}

/** An answer after which the connection closes: the rest of the body is not read. */
function closing(res: ServerResponse, status: number, text: string): void {
  plain(res, status, text, { Connection: 'close' });
}

function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((t) => {
    const v = t.trim();
    return v === '*' || v === etag || v === `W/${etag}`;
  });
}

/** The body, or null as soon as it is known to be larger than `max` (nothing more is read). */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | null> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > max) {
        req.off('data', onData);
        req.pause();
        resolve(null);
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    req.once('error', reject);
  });
}
