// The soak's strict clients: a TLS handshake asking for a staple, judged by the core's verifier
// against the certificate the server actually sent; and an OCSP request to the daemon's
// responder, judged the same way.

import { request } from 'node:http';
import { connect, type ConnectionOptions } from 'node:tls';
import { Certificate } from '../../src/ocsp/certificate.ts';
import { buildRequest, certIdFor } from '../../src/ocsp/request.ts';
import { parseResponse } from '../../src/ocsp/response.ts';
import { verifyResponse, type Verdict } from '../../src/ocsp/verify.ts';

export interface HandshakeProbe {
  /** The certificate the server sent (null: the handshake failed). */
  readonly served: Certificate | null;
  /** null: no staple was sent. */
  readonly verdict: Verdict | null;
  readonly error: string | null;
}

/** One full handshake (no session reuse) with status_request. */
export function probeHandshake(port: number, servername: string, issuer: Certificate, timeoutMs = 5_000): Promise<HandshakeProbe> {
  return new Promise((resolve) => {
    let staple: Buffer | null = null;
    const options: ConnectionOptions & { requestOCSP: boolean } = {
      host: '127.0.0.1',
      port,
      servername,
      requestOCSP: true,
      rejectUnauthorized: false, // trust is not what the soak measures: the staple is
    };
    const socket = connect(options);
    const done = (p: HandshakeProbe): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(p);
    };
    const timer = setTimeout(() => done({ served: null, verdict: null, error: 'handshake timed out' }), timeoutMs);
    socket.on('OCSPResponse', (r: Buffer | null) => (staple = r && r.length > 0 ? r : null));
    socket.on('secureConnect', () => {
      const now = Date.now();
      const raw = socket.getPeerCertificate(false).raw;
      const served = new Certificate(raw, servername);
      done({ served, verdict: staple ? verifyResponse(staple, { certificate: served, issuer, now }) : null, error: null });
    });
    socket.on('error', (err) => done({ served: null, verdict: null, error: err.message }));
  });
}

export type ResponderAnswer =
  | { readonly kind: 'staple'; readonly verdict: Verdict }
  | { readonly kind: 'unauthorized' | 'other-ocsp-status'; readonly status: string }
  | { readonly kind: 'http'; readonly status: number }
  | { readonly kind: 'error'; readonly message: string };

/** POST one SHA-1 CertID to the daemon's responder, as Apache does. */
export function probeResponder(port: number, cert: Certificate, issuer: Certificate, timeoutMs = 5_000): Promise<ResponderAnswer> {
  const body = buildRequest(certIdFor(cert, issuer, 'sha1'));
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/',
        headers: { 'content-type': 'application/ocsp-request', 'content-length': body.length },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const bytes = Buffer.concat(chunks);
          if (res.statusCode !== 200) return resolve({ kind: 'http', status: res.statusCode ?? 0 });
          try {
            const parsed = parseResponse(bytes);
            if (parsed.status === 'successful')
              return resolve({ kind: 'staple', verdict: verifyResponse(bytes, { certificate: cert, issuer, now: Date.now() }) });
            resolve({ kind: parsed.status === 'unauthorized' ? 'unauthorized' : 'other-ocsp-status', status: parsed.status });
          } catch (err) {
            resolve({ kind: 'error', message: `unparsable answer: ${(err as Error).message}` });
          }
        });
        res.on('error', (err) => resolve({ kind: 'error', message: err.message }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (err) => resolve({ kind: 'error', message: err.message }));
    req.end(body);
  });
}
