// Probing a live server's stapling the way a strict client would: validate the chain and the
// name, ask for status, and verify the staple against the presented chain.

import { isIP } from 'node:net';
import { connect, type ConnectionOptions, type DetailedPeerCertificate } from 'node:tls';
import { Certificate } from '../ocsp/certificate.ts';
import { InputError } from '../ocsp/errors.ts';
import { findIssuer } from '../ocsp/pem.ts';
import { verifyResponse, type Verdict } from '../ocsp/verify.ts';

export interface ProbeTarget {
  readonly host: string;
  readonly port: number;
}

/** "host:port", "[v6]:port" or "host" (port 443). */
export function parseTarget(text: string): ProbeTarget {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(text) ?? /^([^:]+)(?::(\d+))?$/.exec(text);
  if (!m) throw new InputError('target', `"${text}" is not host:port`);
  const port = m[2] === undefined ? 443 : Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new InputError('target', `"${text}" has an invalid port`);
  return { host: m[1]!, port };
}

export interface ProbeOptions {
  readonly servername?: string | undefined;
  /** Trust anchors (PEM) instead of the system's. */
  readonly ca?: string | Buffer | undefined;
  readonly tls?: '1.2' | '1.3' | undefined;
  readonly timeoutMs: number;
  readonly now: () => number;
  /** Connect to this address (resolved and allowed already: nothing is looked up again) instead of the target's host. */
  readonly address?: string | undefined;
}

export interface ProbeResult {
  readonly protocol: string;
  readonly servername: string | null;
  readonly certificate: { readonly subject: string; readonly serial: string; readonly mustStaple: boolean; readonly notAfter: string };
  /** The staple's verdict; null when the server sent none. */
  readonly staple: Verdict | null;
  /** Why there is no verdict although a staple came (e.g. the issuer was not presented). */
  readonly stapleProblem: string | null;
  /** A valid staple for a certificate that is not revoked. */
  readonly ok: boolean;
  /** The certificate names no OCSP responder (so there is nothing to staple). */
  readonly noResponder: boolean;
  /** False when the certificate is Must-Staple and the staple is missing or invalid. */
  readonly mustStapleCompliant: boolean;
  readonly summary: string;
  /** From connect() to the end of the handshake. */
  readonly handshakeMs: number;
}

/** Why a probe got no verdict: each a value of the `reason` label in probe metrics. */
export type ProbeFailure = 'timeout' | 'connect' | 'tls' | 'not-tls' | 'dns' | 'no-certificate';

export class ProbeError extends Error {
  override readonly name = 'ProbeError';
  constructor(
    message: string,
    readonly kind: ProbeFailure = 'tls',
  ) {
    super(message);
  }
}

/** Certificates of the presented chain that are looked at (a longer chain is cut here). */
export const MAX_CHAIN_CERTIFICATES = 16;

/** Errors of the TCP connection (not of TLS). */
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EADDRNOTAVAIL', 'EPIPE']);

export function probe(target: ProbeTarget, opts: ProbeOptions): Promise<ProbeResult> {
  const servername = opts.servername ?? (isIP(target.host) ? undefined : target.host);
  return new Promise((resolve, reject) => {
    let staple: Buffer | null = null;
    const version = opts.tls === '1.2' ? ('TLSv1.2' as const) : opts.tls === '1.3' ? ('TLSv1.3' as const) : undefined;
    // requestOCSP reaches the TLSSocket, but @types/node leaves it out of ConnectionOptions.
    const options: ConnectionOptions & { requestOCSP: boolean } = {
      host: opts.address ?? target.host,
      port: target.port,
      requestOCSP: true,
      rejectUnauthorized: true,
      ...(servername ? { servername } : {}),
      ...(opts.ca ? { ca: opts.ca } : {}),
      ...(version ? { minVersion: version, maxVersion: version } : {}),
    };
    const started = performance.now();
    const socket = connect(options);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ProbeError(`${target.host}:${target.port}: no TLS handshake within ${opts.timeoutMs} ms`, 'timeout'));
    }, opts.timeoutMs);
    socket.on('OCSPResponse', (response: Buffer | null) => {
      staple = response && response.length > 0 ? Buffer.from(response) : null;
    });
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      try {
        const peer = socket.getPeerCertificate(true);
        const handshakeMs = performance.now() - started;
        resolve({ ...judge(peer, staple, socket.getProtocol() ?? 'unknown', servername ?? null, opts.now()), handshakeMs });
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      } finally {
        socket.end();
      }
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      // OpenSSL's words for "the first bytes back were not a TLS record".
      const notTls = err.code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number|packet length too long|unknown protocol/i.test(err.message);
      const kind = notTls ? 'not-tls' : CONNECT_ERRORS.has(err.code ?? '') ? 'connect' : 'tls';
      reject(new ProbeError(`${target.host}:${target.port}: ${notTls ? 'not a TLS server (it answered, but not with a TLS handshake)' : err.message}`, kind));
    });
  });
}

function chainOf(peer: DetailedPeerCertificate): Certificate[] {
  const certs: Certificate[] = [];
  const seen = new Set<string>();
  for (
    let c: DetailedPeerCertificate | undefined = peer;
    c?.raw && !seen.has(c.fingerprint256) && certs.length < MAX_CHAIN_CERTIFICATES;
    c = c.issuerCertificate
  ) {
    seen.add(c.fingerprint256);
    certs.push(new Certificate(c.raw, `presented certificate #${certs.length + 1}`));
  }
  return certs;
}

function judge(
  peer: DetailedPeerCertificate,
  staple: Buffer | null,
  protocol: string,
  servername: string | null,
  now: number,
): Omit<ProbeResult, 'handshakeMs'> {
  const chain = chainOf(peer);
  const leaf = chain[0];
  if (!leaf) throw new ProbeError('the server presented no certificate', 'no-certificate');
  const issuer = findIssuer(leaf, chain.slice(1));
  let verdict: Verdict | null = null;
  let stapleProblem: string | null = null;
  if (staple && !issuer) stapleProblem = `the issuer of "${leaf.subject}" is not in the chain, so the staple cannot be verified`;
  else if (staple && issuer) verdict = verifyResponse(staple, { certificate: leaf, issuer, now });
  const ok = verdict !== null && verdict.ok && verdict.certStatus === 'good';
  const mustStapleCompliant = !leaf.mustStaple || (verdict !== null && verdict.ok);
  let summary: string;
  const noResponder = leaf.ocspUrls.length === 0;
  if (!staple && noResponder) summary = 'no staple: the certificate names no OCSP responder, so there is nothing to staple';
  else if (!staple) summary = 'no staple: the server sent no OCSP response';
  else if (stapleProblem) summary = `staple not verifiable: ${stapleProblem}`;
  else if (verdict && !verdict.ok) summary = `INVALID staple: ${verdict.reason}: ${verdict.message}`;
  else if (verdict?.ok && verdict.certStatus === 'revoked') summary = 'valid staple, and it says the certificate is REVOKED';
  else summary = `valid staple: good, ${formatDuration(verdict!.ok ? verdict!.validUntil - now : 0)} until it expires`;
  if (!mustStapleCompliant) summary += '; the certificate is Must-Staple, so a client that enforces it (Firefox) refuses this connection';
  return {
    protocol,
    servername,
    certificate: { subject: leaf.subject, serial: leaf.serialHex, mustStaple: leaf.mustStaple, notAfter: new Date(leaf.notAfter).toISOString() },
    staple: verdict,
    stapleProblem,
    ok,
    noResponder,
    mustStapleCompliant,
    summary,
  };
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return d > 0 ? `${d}d ${h}h ${m}m` : h > 0 ? `${h}h ${m}m` : `${m}m ${s % 60}s`;
}
