// The CA certificates the engine has seen, one shared instance each (its key and hashes are
// computed once, not per leaf), indexed by subject name so that a leaf's issuer check tries only
// the CAs whose name it names; and the certificates still waiting for their issuer: a chain
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
  /** The known CAs by subject name (its DER as a string): usually one each. */
  private readonly bySubject = new Map<string, Certificate[]>();
  private readonly waiting = new Set<ManagedCertificate>();

  /** The shared instance of a CA certificate already seen with exactly this DER. */
  knownByDer(der: Uint8Array): Certificate | undefined {
    return this.known.get(derKey(der));
  }

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
        const subject = derKey(c.subjectName);
        this.bySubject.set(subject, [...(this.bySubject.get(subject) ?? []), c]);
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

  /**
   * The issuer of `leaf` among `candidates`, then among every CA seen before: a certificate whose
   * subject is the leaf's issuer name and whose key verifies the leaf's signature (checked on the
   * thread pool, so that many adds at once use every core and leave the event loop free).
   */
  async issuerOf(leaf: Certificate, candidates: readonly Certificate[] = []): Promise<Certificate | null> {
    const named = this.bySubject.get(derKey(leaf.issuerName)) ?? [];
    const tried = new Set<Certificate>();
    for (const candidate of [...candidates, ...named]) {
      if (tried.has(candidate) || candidate === leaf || candidate.der === leaf.der) continue;
      tried.add(candidate);
      if (await leaf.isIssuedByAsync(candidate)) return candidate;
    }
    return null;
  }

  /** Remember a certificate whose issuer is unknown, until a chain brings it. */
  await(managed: ManagedCertificate): void {
    this.waiting.add(managed);
  }

  forget(managed: ManagedCertificate): void {
    this.waiting.delete(managed);
  }
}
