// The CertID hash algorithm a staple names its certificate with, read once per staple with the
// pure core. A staple whose CertID does not match the request's is never served: clients compare
// the whole CertID (hash algorithm included) and reject it ("No Status found" from openssl).

import type { Logger } from '../../engine/logger.ts';
import type { CertIdLookup } from '../../engine/types.ts';
import { parseResponse } from '../../ocsp/response.ts';
import type { HashName } from '../../ocsp/signature.ts';

const NAMES: Record<HashName, string> = { sha1: 'SHA-1', sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512' };

export class StapleHashes {
  /** Staple DER → the hash algorithms of its SingleResponses' CertIDs (null: unreadable, not checked). */
  private readonly byStaple = new WeakMap<Buffer, ReadonlySet<HashName> | null>();
  /** "certificate id, hash" pairs already logged: one line each, not one per request. */
  private readonly logged = new Set<string>();

  constructor(private readonly log: Logger) {}

  /** Whether the staple names its certificate with `hash`; logs a mismatch once per certificate and algorithm. */
  matches(staple: Buffer, hash: HashName, cert: Pick<CertIdLookup, 'id' | 'serial'>): boolean {
    const hashes = this.of(staple);
    if (hashes === null || hashes.has(hash)) return true;
    const key = `${cert.id}\u0000${hash}`;
    if (!this.logged.has(key)) {
      this.logged.add(key);
      const has = [...hashes].map((h) => NAMES[h]).join(', ') || 'an unknown algorithm';
      this.log.warn(
        { serial: cert.serial, requestHash: hash, stapleHash: [...hashes] },
        `a client asks with ${NAMES[hash]} CertIDs; the staple (from the CA) names the certificate with ${has}: ` +
          `set \`hash: ${hash}\` in the daemon's configuration to fetch with ${NAMES[hash]} CertIDs (answered "unauthorized")`,
      );
    }
    return false;
  }

  private of(staple: Buffer): ReadonlySet<HashName> | null {
    if (this.byStaple.has(staple)) return this.byStaple.get(staple)!;
    let hashes: Set<HashName> | null;
    try {
      // The engine verified this staple: it parses. Were it not to, it is served unchecked, as before.
      hashes = new Set((parseResponse(staple).basic?.responses ?? []).flatMap((r) => (r.certId.hash ? [r.certId.hash] : [])));
    } catch {
      hashes = null;
    }
    this.byStaple.set(staple, hashes);
    return hashes;
  }
}
