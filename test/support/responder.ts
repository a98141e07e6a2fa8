// An in-process OCSP responder on 127.0.0.1 with fault injection. Tests switch `behaviour`
// while it runs. It parses requests with pkijs, independently of our request builder.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import type { Issued, TestPki } from './pki.ts';
import { buildResponse, statusOnlyResponse, type ResponseSpec } from './responses.ts';

export const BEHAVIOURS = [
  'good',
  'revoked',
  'unknown',
  'malformedRequest',
  'internalError',
  'tryLater',
  'sigRequired',
  'unauthorized',
  'malformed-bytes',
  'http-500',
  'wrong-content-type',
  'hang',
  'reset',
  'wrong-serial',
  'expired',
  'future-this-update',
  'bad-signature',
  'unauthorized-signer',
  'delegated',
  'no-next-update',
  'huge-body',
  'trickle',
] as const;
export type Behaviour = (typeof BEHAVIOURS)[number];

const STATUS_CODES: Partial<Record<Behaviour, number>> = { malformedRequest: 1, internalError: 2, tryLater: 3, sigRequired: 5, unauthorized: 6 };
const HOUR = 3_600_000;

export interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  readonly serials: readonly string[];
  /** The CertID hash of each request ('sha1', 'sha256', or the OID). */
  readonly hashes: readonly string[];
  readonly nonce: Buffer | null;
}

export class TestResponder {
  behaviour: Behaviour = 'good';
  /** The responder's clock; tests on a fake clock point this at it. */
  now: () => number = () => Date.now();
  /** Validity window of the responses it makes. */
  validityMs = 24 * HOUR;
  /** Wait this long before answering (a slow responder). */
  delayMs = 0;
  /** Extra headers on successful answers (e.g. Cache-Control). */
  headers: Record<string, string> = {};
  readonly received: ReceivedRequest[] = [];
  /** Move this responder's clock forward: what it makes next is visibly newer (GeneralizedTime has whole seconds), with no sleep. */
  advance(ms: number): void {
    const base = this.now;
    this.now = () => base() + ms;
  }
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly hanging = new Set<ServerResponse>();
  private certs = new Map<string, Issued>();
  private pki: TestPki | undefined;
  url = '';

  constructor() {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  get requestCount(): number {
    return this.received.length;
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}/ocsp`;
    return this.url;
  }

  /** The PKI whose certificates it answers for (all leaves issued by the intermediate). */
  serve(pki: TestPki, extra: readonly Issued[] = []): void {
    this.pki = pki;
    for (const c of [pki.leaf, pki.rsaLeaf, pki.noAiaLeaf, pki.mustStapleLeaf, ...extra]) this.certs.set(c.cert.serialHex, c);
  }

  /** End the requests held by the 'hang' behaviour (their connections reset). */
  releaseHanging(): void {
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
  }

  /** Stop listening (connections are refused: a CA that is down), keeping the port. */
  async pauseListening(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Listen again on the same port after pauseListening(). */
  async resumeListening(): Promise<void> {
    const port = Number(new URL(this.url).port);
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const body = await readRequestBody(req);
      const parsed = parseOcspRequest(body);
      this.received.push({ method: req.method ?? '', url: req.url ?? '', ...parsed });
      if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
      await this.answer(parsed, res);
    } catch (err) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(`bad request: ${(err as Error).message}`);
    }
  }

  private async answer(request: { serials: readonly string[]; nonce: Buffer | null }, res: ServerResponse): Promise<void> {
    const b = this.behaviour;
    switch (b) {
      case 'hang':
        this.hanging.add(res);
        return;
      case 'reset':
        res.socket?.destroy();
        return;
      case 'http-500':
        res.writeHead(500, { 'content-type': 'text/html' }).end('<html><body>Internal Server Error</body></html>');
        return;
      case 'malformed-bytes':
        return this.send(res, Buffer.from('<html>this is not DER</html>'));
      case 'huge-body':
        return this.send(res, Buffer.alloc(1024 * 1024, 0x30));
      default:
        break;
    }
    const status = STATUS_CODES[b];
    if (status !== undefined) return this.send(res, statusOnlyResponse(status));
    const der = await this.makeResponse(request.serials[0] ?? '', request.nonce);
    if (b === 'wrong-content-type') {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': der.length }).end(der);
      return;
    }
    if (b === 'trickle') {
      res.writeHead(200, { 'content-type': 'application/ocsp-response', 'content-length': der.length });
      this.hanging.add(res);
      let i = 0;
      const timer = setInterval(() => {
        if (i >= der.length || res.destroyed) return clearInterval(timer);
        res.write(der.subarray(i, ++i));
      }, 500);
      res.on('close', () => clearInterval(timer));
      return;
    }
    this.send(res, der);
  }

  private send(res: ServerResponse, der: Buffer): void {
    res.writeHead(200, { 'content-type': 'application/ocsp-response', 'content-length': der.length, ...this.headers }).end(der);
  }

  /** The CertID hash of the responses (a CA answers with its own choice, not always the request's). */
  certIdHash: 'sha1' | 'sha256' = 'sha1';

  /** A response for `serialHex` shaped by the current behaviour. */
  async makeResponse(serialHex: string, nonce: Buffer | null = null): Promise<Buffer> {
    const pki = this.pki;
    if (!pki) throw new Error('responder has no PKI: call serve()');
    const cert = this.certs.get(serialHex);
    const now = this.now();
    const b = this.behaviour;
    const spec: ResponseSpec = {
      cert: cert ?? pki.leaf,
      issuer: pki.intermediate,
      serialHex: cert ? undefined : serialHex,
      status: !cert || b === 'unknown' ? 'unknown' : b === 'revoked' ? 'revoked' : 'good',
      revocationTime: new Date(now - HOUR),
      revocationReason: 1,
      thisUpdate: new Date(now - 60_000),
      nextUpdate: b === 'no-next-update' ? null : new Date(now - 60_000 + this.validityMs),
      ...(nonce ? { nonce } : {}),
      certIdHash: this.certIdHash,
    };
    switch (b) {
      case 'wrong-serial':
        return buildResponse({ ...spec, serialHex: 'DEADBEEF01' });
      case 'expired':
        return buildResponse({ ...spec, thisUpdate: new Date(now - 3 * this.validityMs), nextUpdate: new Date(now - 2 * this.validityMs) });
      case 'future-this-update':
        return buildResponse({ ...spec, thisUpdate: new Date(now + HOUR), nextUpdate: new Date(now + HOUR + this.validityMs) });
      case 'bad-signature':
        return buildResponse({ ...spec, corruptSignature: true });
      case 'unauthorized-signer':
        return buildResponse({ ...spec, signer: pki.delegatedNoEku });
      case 'delegated':
        return buildResponse({ ...spec, signer: pki.delegated, responderIdBy: 'key' });
      default:
        return buildResponse(spec);
    }
  }
}

async function readRequestBody(req: IncomingMessage): Promise<Buffer> {
  if (req.method === 'GET') {
    const encoded = (req.url ?? '').split('/').pop() ?? '';
    return Buffer.from(decodeURIComponent(encoded), 'base64');
  }
  if (req.method !== 'POST') throw new Error(`method ${req.method}`);
  if (req.headers['content-type'] !== 'application/ocsp-request') throw new Error('content-type must be application/ocsp-request');
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Parse a request with pkijs: the serials asked for, and the nonce if any. */
const HASH_NAMES: Record<string, string> = { '1.3.14.3.2.26': 'sha1', '2.16.840.1.101.3.4.2.1': 'sha256' };

export function parseOcspRequest(der: Buffer): { serials: string[]; hashes: string[]; nonce: Buffer | null } {
  const request = pkijs.OCSPRequest.fromBER(new Uint8Array(der));
  const hashes = request.tbsRequest.requestList.map((r) => HASH_NAMES[r.reqCert.hashAlgorithm.algorithmId] ?? r.reqCert.hashAlgorithm.algorithmId);
  const serials = request.tbsRequest.requestList.map((r) =>
    Buffer.from(r.reqCert.serialNumber.valueBlock.valueHexView)
      .toString('hex')
      .toUpperCase()
      .replace(/^00(?=.)/, ''),
  );
  const nonceExt = request.tbsRequest.requestExtensions?.find((e) => e.extnID === '1.3.6.1.5.5.7.48.1.2');
  let nonce: Buffer | null = null;
  if (nonceExt) {
    const inner = asn1js.fromBER(nonceExt.extnValue.valueBlock.valueHexView);
    nonce = Buffer.from((inner.result as asn1js.OctetString).valueBlock.valueHexView);
  }
  return { serials, hashes, nonce };
}
