// The CA certificates the engine has seen, one shared instance each (its key and hashes are
// computed once, not per leaf), and the certificates still waiting for their issuer: a chain
// added later completes an earlier registration (certbot's cert.pem before fullchain.pem, or
// add(leaf) before add(fullchain)).

import type { Certificate } from '../ocsp/certificate.ts';
import { findIssuer } from '../ocsp/pem.ts';
import { derKey, type ManagedCertificate } from './managed.ts';

export interface Completion {
  readonly managed: ManagedCertificate;
  readonly issuer: Certificate;
}

export class IssuerBook {
  private readonly known = new Map<string, Certificate>();
  private readonly waiting = new Set<ManagedCertificate>();

  /**
   * The shared instances of `certs`, remembering the CA certificates among them; and the
   * waiting certificates that a newly learned CA is the issuer of (no longer waiting).
   */
  learn(certs: readonly Certificate[]): { canonical: Certificate[]; completed: Completion[] } {
    const fresh: Certificate[] = [];
    const canonical = certs.map((c) => {
      const key = derKey(c.der);
      const known = this.known.get(key);
      if (known) return known;
      if (c.isCA) {
        this.known.set(key, c);
        fresh.push(c);
      }
      return c;
    });
    const completed: Completion[] = [];
    if (fresh.length > 0) {
      for (const managed of this.waiting) {
        const issuer = findIssuer(managed.cert, fresh);
        if (issuer) completed.push({ managed, issuer });
      }
      for (const c of completed) this.waiting.delete(c.managed);
    }
    return { canonical, completed };
  }

  /** The issuer of `leaf` among `candidates`, then among every CA seen before. */
  issuerOf(leaf: Certificate, candidates: readonly Certificate[] = []): Certificate | null {
    return findIssuer(leaf, candidates) ?? findIssuer(leaf, [...this.known.values()]) ?? null;
  }

  /** Remember a certificate whose issuer is unknown, until a chain brings it. */
  await(managed: ManagedCertificate): void {
    this.waiting.add(managed);
  }

  forget(managed: ManagedCertificate): void {
    this.waiting.delete(managed);
  }
}
