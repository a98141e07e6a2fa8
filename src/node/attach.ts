// Attaching the engine to Node's tls, https and http2 servers: answer OCSPRequest from memory,
// synchronously, and never in a way that can hurt a handshake or the process.

import type { SecureContext, SecureContextOptions, Server as TlsServer } from 'node:tls';
import { readCertificates } from '../ocsp/pem.ts';
import type { Logger } from '../engine/logger.ts';
import type { StaplingEngine as Engine } from '../engine/engine.ts';

type OcspCallback = (err: Error | null, response?: Buffer) => void;
type OcspListener = (certificate: Buffer, issuer: Buffer | null, callback: OcspCallback) => void;

/** The parts of tls.Server that Node sets but does not document: read only for warnings. */
interface ServerInternals {
  cert?: unknown;
  key?: unknown;
  listening?: boolean;
  addContext?: (hostname: string, context: SecureContextOptions | SecureContext) => void;
}

const NODE_MAJOR = Number(process.versions.node.split('.')[0]);

/**
 * Staple from `engine` on `server` (tls.Server, https.Server or an http2 secure server).
 * Returns a function that detaches it. `counts` (if given) counts the handshakes stapled and not.
 */
export function attach(engine: Engine, server: TlsServer, log: Logger, counts?: { stapled: number; unstapled: number }): () => void {
  const listener: OcspListener = (certificate, issuer, callback) => {
    let staple: Buffer | null = null;
    try {
      staple = engine.stapleFor(certificate, issuer);
    } catch (err) {
      // A throw here would crash the process on Node 20 and 22: log it and staple nothing.
      log.error({ err: err instanceof Error ? err.message : String(err) }, 'OCSPRequest lookup failed; this handshake gets no staple');
    }
    // Never pass an error: it destroys the client's socket. Never pass an empty buffer.
    try {
      if (staple && staple.length > 0) {
        if (counts) counts.stapled++;
        callback(null, staple);
      } else {
        if (counts) counts.unstapled++;
        callback(null);
      }
    } catch (err) {
      log.error({ err: err instanceof Error ? err.message : String(err) }, 'OCSPRequest callback threw');
    }
  };
  const internals = server as unknown as ServerInternals;
  if (internals.listening) log.warn({}, 'Stapler attached to a server that is already listening: attach before listen()');
  warnAboutSetup(internals, log);
  const restoreAddContext = watchAddContext(internals, log);
  server.on('OCSPRequest', listener);
  return () => {
    server.off('OCSPRequest', listener);
    restoreAddContext();
  };
}

/** One context with several certificates (say ECDSA + RSA): OCSPRequest always sees the last one. */
function warnAboutSetup(server: ServerInternals, log: Logger): void {
  if (Array.isArray(server.cert) && server.cert.length > 1 && Array.isArray(server.key) && server.key.length > 1) {
    log.warn(
      { certificates: server.cert.length },
      'this server has several certificates in one context: Node reports only the last one to OCSPRequest, so the others may get the wrong staple or none; give each its own context (SNI) instead',
    );
  }
}

/** SNI contexts of another key type than the default one are served wrongly on Node 20 and 22 (nodejs/node#54235). */
function watchAddContext(server: ServerInternals, log: Logger): () => void {
  const original = server.addContext;
  if (typeof original !== 'function' || NODE_MAJOR >= 24) return () => undefined;
  const defaultType = keyTypeOf(server.cert);
  server.addContext = function addContext(this: unknown, hostname: string, context: SecureContextOptions | SecureContext): void {
    const type = keyTypeOf(isSecureContext(context) ? context.context.getCertificate?.() : (context as SecureContextOptions).cert);
    if (defaultType && type && type !== defaultType) {
      log.warn(
        { hostname, contextKeyType: type, defaultKeyType: defaultType, node: process.versions.node },
        `on Node ${NODE_MAJOR}, an SNI context whose key type differs from the default context's is served the default certificate while OCSPRequest sees the SNI one (nodejs/node#54235): the staple would be wrong, so use one key type or Node 24`,
      );
    }
    original.call(this, hostname, context);
  };
  return () => {
    server.addContext = original;
  };
}

interface NativeSecureContext extends SecureContext {
  context: { getCertificate?: () => Buffer | null };
}

function isSecureContext(c: SecureContextOptions | SecureContext): c is NativeSecureContext {
  return typeof (c as NativeSecureContext).context === 'object';
}

function keyTypeOf(cert: unknown): string | null {
  const first = Array.isArray(cert) ? (cert[0] as unknown) : cert;
  if (typeof first !== 'string' && !(first instanceof Uint8Array)) return null;
  try {
    return readCertificates(typeof first === 'string' ? Buffer.from(first) : first, 'server certificate')[0]!.publicKey().asymmetricKeyType ?? null;
  } catch {
    return null;
  }
}
