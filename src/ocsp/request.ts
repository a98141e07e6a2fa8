// Building OCSP requests (RFC 6960 §4.1) and their GET form (RFC 9919 / RFC 5019).

import type { Certificate } from './certificate.ts';
import { ctx } from './der.ts';
import { derNull, integerFromContent, octetString, oid, sequence, tlv } from './der-writer.ts';
import { InputError } from './errors.ts';
import { OID } from './oids.ts';
import type { HashName } from './signature.ts';
import { bytesEqual } from './bytes.ts';

const HASH_OID: Readonly<Record<HashName, string>> = {
  sha1: OID.sha1,
  sha256: OID.sha256,
  sha384: OID.sha384,
  sha512: OID.sha512,
};

/** A CertID: which certificate, named by its issuer's name and key hashes plus its serial. */
export interface CertId {
  readonly hash: HashName;
  readonly issuerNameHash: Uint8Array;
  readonly issuerKeyHash: Uint8Array;
  readonly serial: Uint8Array;
}

/** The CertID of `cert` issued by `issuer`. SHA-1 is the default: what responders and clients expect. */
export function certIdFor(cert: Certificate, issuer: Certificate, hash: HashName = 'sha1'): CertId {
  if (!bytesEqual(cert.issuerName, issuer.subjectName)) {
    throw new InputError('issuer', `"${issuer.subject}" is not the issuer named by the certificate ("${cert.issuer}")`);
  }
  return {
    hash,
    issuerNameHash: issuer.subjectNameHash(hash),
    issuerKeyHash: issuer.keyHash(hash),
    serial: cert.serial,
  };
}

/** The DER encoding of a CertID. */
export function encodeCertId(id: CertId): Buffer {
  return sequence(sequence(oid(HASH_OID[id.hash]), derNull()), octetString(id.issuerNameHash), octetString(id.issuerKeyHash), integerFromContent(id.serial));
}

/** RFC 9654 recommends 32 bytes; it allows 1 to 32. */
export const NONCE_MAX_BYTES = 32;

/** The DER OCSPRequest for one or more CertIDs; the nonce (if any) is the caller's random bytes. */
export function buildRequest(ids: CertId | readonly CertId[], options: { nonce?: Uint8Array } = {}): Buffer {
  const list = Array.isArray(ids) ? (ids as readonly CertId[]) : [ids as CertId];
  if (list.length === 0) throw new InputError('request', 'needs at least one CertID');
  const requests = list.map((id) => sequence(encodeCertId(id)));
  const parts: Buffer[] = [sequence(...requests)];
  const { nonce } = options;
  if (nonce) {
    if (nonce.length < 1 || nonce.length > NONCE_MAX_BYTES) throw new InputError('nonce', `must be 1 to ${NONCE_MAX_BYTES} bytes`);
    const ext = sequence(oid(OID.ocspNonce), octetString(octetString(nonce)));
    parts.push(tlv(ctx(2), sequence(ext)));
  }
  return sequence(sequence(...parts));
}

/** RFC 9919: use GET when the whole URL fits in 255 bytes. */
export const GET_URL_LIMIT = 255;

/** The GET URL: standard base64 (not base64url) of the DER, URL-encoded, after a '/'. */
export function getUrl(responderUrl: string, request: Uint8Array): string {
  const encoded = encodeURIComponent(Buffer.from(request).toString('base64'));
  return `${responderUrl.endsWith('/') ? responderUrl : `${responderUrl}/`}${encoded}`;
}

/** The GET URL when it is short enough, else undefined (POST the DER instead). */
export function getUrlIfShort(responderUrl: string, request: Uint8Array): string | undefined {
  const url = getUrl(responderUrl, request);
  return Buffer.byteLength(url) <= GET_URL_LIMIT ? url : undefined;
}
