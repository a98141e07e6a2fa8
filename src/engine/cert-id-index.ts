// The managed certificates by OCSP CertID (hash algorithm, issuer name hash, issuer key hash,
// serial), for the daemon's responder. Keyed per issuer, then by the serial's bytes: the issuer's
// hashes are computed once per CA, and each certificate costs one map entry per hash algorithm.
// Keys are the exact bytes (latin1: one char per byte), so a hit is an exact match: DER integers
// have one encoding.

import type { Certificate } from '../ocsp/certificate.ts';
import type { CertId } from '../ocsp/request.ts';
import type { HashName } from '../ocsp/signature.ts';
import type { ManagedCertificate } from './managed.ts';

/** The CertID hash algorithms indexed: what clients send (SHA-1 by default, SHA-256 by some). */
export const INDEXED_HASHES: readonly HashName[] = ['sha1', 'sha256'];

export class CertIdIndex {
  /** issuer key (hash algorithm + name hash + key hash) → serial bytes → certificate. */
  private readonly byIssuer = new Map<string, Map<string, ManagedCertificate>>();
  /** The issuer keys of each CA certificate seen, computed once. */
  private readonly issuerKeys = new WeakMap<Certificate, readonly string[]>();

  /** Index a certificate whose issuer is known (at registration, or when a chain completes it). */
  add(m: ManagedCertificate): void {
    if (!m.issuer) return;
    for (const key of this.keysOf(m.issuer)) {
      let serials = this.byIssuer.get(key);
      if (!serials) this.byIssuer.set(key, (serials = new Map<string, ManagedCertificate>()));
      serials.set(latin1(m.cert.serial), m);
    }
  }

  remove(m: ManagedCertificate): void {
    if (!m.issuer) return;
    for (const key of this.keysOf(m.issuer)) {
      const serials = this.byIssuer.get(key);
      const serial = latin1(m.cert.serial);
      if (serials?.get(serial) !== m) continue;
      serials.delete(serial);
      if (serials.size === 0) this.byIssuer.delete(key);
    }
  }

  /** The certificate a CertID names exactly, or undefined. */
  find(id: CertId): ManagedCertificate | undefined {
    return this.byIssuer.get(issuerKey(id.hash, id.issuerNameHash, id.issuerKeyHash))?.get(latin1(id.serial));
  }

  private keysOf(issuer: Certificate): readonly string[] {
    let keys = this.issuerKeys.get(issuer);
    if (!keys) {
      keys = INDEXED_HASHES.map((h) => issuerKey(h, issuer.subjectNameHash(h), issuer.keyHash(h)));
      this.issuerKeys.set(issuer, keys);
    }
    return keys;
  }
}

/** Hash name and the two hashes' bytes as one string (latin1: one char per byte, the cheapest exact key). */
function issuerKey(hash: HashName, nameHash: Uint8Array, keyHash: Uint8Array): string {
  return `${hash}:${latin1(nameHash)}${latin1(keyHash)}`;
}

function latin1(b: Uint8Array): string {
  return (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength)).toString('latin1');
}
