// Who signed an OCSP response: the issuer, or a delegated responder it authorized (RFC 6960
// 4.2.2.2). Pure, like the rest of the core: each signature to check is yielded to the caller,
// which checks it at once (verifyResponse) or on the thread pool (verifyResponseAsync).

import type { KeyObject } from 'node:crypto';
import { bytesEqual } from './bytes.ts';
import { Certificate } from './certificate.ts';
import { InputError } from './errors.ts';
import { OID } from './oids.ts';
import type { BasicResponse } from './response.ts';
import type { SignatureAlgorithm, SignatureCheck } from './signature.ts';
import type { RejectReason } from './verify.ts';

/** Delegated responder certificates already proven to be issued by an issuer, per issuer. */
const delegateCache = new WeakMap<Certificate, Map<string, Certificate>>();
const DELEGATE_CACHE_MAX = 16;

/** A signature the verification needs checked (node:crypto's work): its caller checks it, here or on the thread pool. */
export interface SignatureJob {
  readonly alg: SignatureAlgorithm;
  readonly data: Uint8Array;
  readonly signature: Uint8Array;
  readonly key: KeyObject;
  readonly allowSha1: boolean;
}

export type SignerResult = { cert: Certificate } | { reason: RejectReason; message: string };

/**
 * The certificate whose key must verify the response: the issuer, or an authorized delegated
 * responder. Every embedded certificate is parsed strictly first, signer or not: `certs` is not
 * signed, and a staple with a certificate OpenSSL cannot parse is refused by strict clients.
 */
export function* findSigner(basic: BasicResponse, issuer: Certificate, now: number): Generator<SignatureJob, SignerResult, SignatureCheck> {
  const cache = cachedDelegates(issuer);
  const embedded: Certificate[] = [];
  const fresh: boolean[] = [];
  const keys: string[] = [];
  for (let i = 0; i < basic.certs.length; i++) {
    const key = Buffer.from(basic.certs[i]!).toString('latin1');
    const known = cache.get(key);
    if (known) {
      embedded.push(known);
      fresh.push(false);
    } else {
      try {
        embedded.push(new Certificate(basic.certs[i]!, `certs[${i}]`));
      } catch (err) {
        if (err instanceof InputError) return { reason: 'malformed', message: `embedded ${err.message}` };
        throw err;
      }
      fresh.push(true);
    }
    keys.push(key);
  }
  if (matchesResponderId(basic, issuer)) return { cert: issuer };
  let candidate: Certificate | undefined;
  for (let i = 0; i < embedded.length; i++) {
    const cert = embedded[i]!;
    if (!matchesResponderId(basic, cert)) continue;
    candidate = cert;
    if (fresh[i]) {
      if (!(yield* isIssuedBy(cert, issuer))) {
        return {
          reason: 'unauthorized-signer',
          message: `responder certificate "${cert.subject}" is not issued by the certificate's issuer "${issuer.subject}"`,
        };
      }
      if (cache.size >= DELEGATE_CACHE_MAX) cache.clear();
      cache.set(keys[i]!, cert);
    }
    break;
  }
  if (!candidate) {
    return { reason: 'signer-not-found', message: `no certificate matches the responder ID ${describeResponderId(basic)}, and the issuer does not either` };
  }
  if (!candidate.hasExtKeyUsage(OID.kpOcspSigning)) {
    return { reason: 'unauthorized-signer', message: `responder certificate "${candidate.subject}" lacks the OCSP-signing extended key usage` };
  }
  if (!candidate.isValidAt(now)) {
    return {
      reason: 'unauthorized-signer',
      message: `responder certificate "${candidate.subject}" is outside its validity (${iso(candidate.notBefore)} to ${iso(candidate.notAfter)})`,
    };
  }
  if (candidate.unknownCriticalExtensions.length > 0) {
    return {
      reason: 'unauthorized-signer',
      message: `responder certificate "${candidate.subject}" has unknown critical extension ${candidate.unknownCriticalExtensions[0]}`,
    };
  }
  return { cert: candidate };
}

/** Certificate.isIssuedBy (any signature hash: the CA's choice), with its signature yielded to the driver. */
function* isIssuedBy(cert: Certificate, issuer: Certificate): Generator<SignatureJob, boolean, SignatureCheck> {
  if (!bytesEqual(cert.issuerName, issuer.subjectName)) return false;
  const key = issuer.tryPublicKey();
  if (!key) return false;
  return (yield { alg: cert.signatureAlgorithm, data: cert.tbs, signature: cert.signature, key, allowSha1: true }).ok;
}

function cachedDelegates(issuer: Certificate): Map<string, Certificate> {
  let cache = delegateCache.get(issuer);
  if (!cache) delegateCache.set(issuer, (cache = new Map<string, Certificate>()));
  return cache;
}

function matchesResponderId(basic: BasicResponse, cert: Certificate): boolean {
  const id = basic.responderId;
  if (id.byKey) return bytesEqual(cert.keyHash('sha1'), id.byKey);
  return bytesEqual(cert.subjectName, id.byName);
}

function describeResponderId(basic: BasicResponse): string {
  const id = basic.responderId;
  return id.byKey ? `byKey ${Buffer.from(id.byKey).toString('hex')}` : 'byName (a name no certificate has)';
}

function iso(t: number): string {
  return new Date(t).toISOString();
}
