// CertIDs the responder was asked about and does not manage: one log line per distinct CertID
// (not one per request) and a count for each, so the operator can add the certificate. Bounded:
// the first MAX_LOGGED_UNKNOWN distinct CertIDs are logged, the rest only listed (one line says
// so: a flood of 10,000 distinct CertIDs a second wrote a thousand lines); past
// MAX_TRACKED_UNKNOWN distinct CertIDs, the rest are counted together and logged once.

import type { Logger } from '../../engine/logger.ts';
import type { CertId } from '../../ocsp/request.ts';
import type { HashName } from '../../ocsp/signature.ts';
import { INDEXED_HASHES } from '../../engine/cert-id-index.ts';
import { serialHex } from '../../ocsp/bytes.ts';

export const MAX_TRACKED_UNKNOWN = 1024;
/** Distinct unmanaged CertIDs logged one line each; the rest are in the list (status page, /status.json). */
export const MAX_LOGGED_UNKNOWN = 16;

export interface UnknownCertId {
  readonly hash: HashName;
  /** Hex. */
  readonly issuerNameHash: string;
  /** Hex. */
  readonly issuerKeyHash: string;
  /** Hex, upper case, as openssl prints serials (and as the certificates' `serial` everywhere else). */
  readonly serial: string;
  count: number;
}

export class UnknownCertIds {
  private readonly seen = new Map<string, UnknownCertId>();
  /** Requests for CertIDs beyond the tracked ones. */
  untracked = 0;

  constructor(private readonly log: Logger) {}

  record(id: CertId): void {
    const entry = {
      hash: id.hash,
      issuerNameHash: hex(id.issuerNameHash),
      issuerKeyHash: hex(id.issuerKeyHash),
      serial: serialHex(id.serial),
      count: 1,
    };
    const key = `${entry.hash}:${entry.issuerNameHash}:${entry.issuerKeyHash}:${entry.serial}`;
    const known = this.seen.get(key);
    if (known) {
      known.count++;
      return;
    }
    if (this.seen.size >= MAX_TRACKED_UNKNOWN) {
      if (this.untracked++ === 0)
        this.log.warn(
          { tracked: MAX_TRACKED_UNKNOWN },
          'OCSP requests for too many distinct unmanaged certificates: the rest are counted together, not logged',
        );
      return;
    }
    this.seen.set(key, entry);
    if (this.seen.size > MAX_LOGGED_UNKNOWN) {
      if (this.seen.size === MAX_LOGGED_UNKNOWN + 1)
        this.log.warn(
          { logged: MAX_LOGGED_UNKNOWN },
          `OCSP requests for more than ${MAX_LOGGED_UNKNOWN} distinct unmanaged certificates: the rest are listed on the status page, not logged`,
        );
      return;
    }
    const fields = { hash: entry.hash, issuerNameHash: entry.issuerNameHash, issuerKeyHash: entry.issuerKeyHash, serial: entry.serial };
    if (!INDEXED_HASHES.includes(id.hash))
      this.log.warn(
        fields,
        `OCSP request with a ${id.hash} CertID: not indexed (the responder finds certificates by ${INDEXED_HASHES.join(' and ')} CertIDs only): answered "unauthorized"`,
      );
    else this.log.warn(fields, 'OCSP request for a certificate this daemon does not manage: answered "unauthorized" (add the certificate to staple it)');
  }

  /** Every unmanaged CertID asked about, with its count. */
  list(): readonly Readonly<UnknownCertId>[] {
    return [...this.seen.values()];
  }
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}
