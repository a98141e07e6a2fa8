// The managed certificates by OCSP CertID (hash algorithm, issuer name hash, issuer key hash,
// serial), for the daemon's responder. Keyed per issuer, then by serial: the issuer's hashes are
// computed once per CA, and each certificate costs one map entry per hash algorithm (its serial
// string is the one the certificate already keeps).

import { bytesEqual } from '../ocsp/bytes.ts';
import type { Certificate } from '../ocsp/certificate.ts';
import type { CertId } from '../ocsp/request.ts';
import type { HashName } from '../ocsp/signature.ts';
import type { ManagedCertificate } from './managed.ts';

/** The CertID hash algorithms indexed: what clients send (SHA-1 by default, SHA-256 by some). */
export const INDEXED_HASHES: readonly HashName[] = ['sha1', 'sha256'];

export class CertIdIndex {
  /** issuer key (hash algorithm + name hash + key hash) → serial hex → certificate. */
  private readonly byIssuer = new Map<string, Map<string, ManagedCertificate>>();
  /** The issuer keys of each CA certificate seen, computed once. */
  private readonly issuerKeys = new WeakMap<Certificate, readonly string[]>();

  /** Index a certificate whose issuer is known (at registration, or when a chain completes it). */
  add(m: ManagedCertificate): void {
    if (!m.issuer) return;
    for (const key of this.keysOf(m.issuer)) {
      let serials = this.byIssuer.get(key);
      if (!serials) this.byIssuer.set(key, (serials = new Map<string, ManagedCertificate>()));
      serials.set(m.cert.serialHex, m);
    }
  }

  remove(m: ManagedCertificate): void {
    if (!m.issuer) return;
    for (const key of this.keysOf(m.issuer)) {
      const serials = this.byIssuer.get(key);
      if (serials?.get(m.cert.serialHex) !== m) continue;
      serials.delete(m.cert.serialHex);
      if (serials.size === 0) this.byIssuer.delete(key);
    }
  }

  /** The certificate a CertID names exactly, or undefined. */
  find(id: CertId): ManagedCertificate | undefined {
    const serials = this.byIssuer.get(issuerKey(id.hash, id.issuerNameHash, id.issuerKeyHash));
    if (!serials) return undefined;
    const m = serials.get(serialHexOf(id.serial));
    // serialHex drops a sign byte: compare the exact bytes.
    return m && bytesEqual(m.cert.serial, id.serial) ? m : undefined;
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

function issuerKey(hash: HashName, nameHash: Uint8Array, keyHash: Uint8Array): string {
  return `${hash}:${hex(nameHash)}:${hex(keyHash)}`;
}

/** As Certificate.serialHex writes it: upper case, without a sign-padding zero byte. */
function serialHexOf(serial: Uint8Array): string {
  const s = serial.length > 1 && serial[0] === 0 ? serial.subarray(1) : serial;
  return hex(s).toUpperCase();
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}
