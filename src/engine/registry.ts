// The certificates under management, found by id (stores, status) or by DER (handshakes), and how
// a certificate's issuer and responder URLs are worked out when it is registered.

import { createHash } from 'node:crypto';
import { ownedCopy } from '../ocsp/bytes.ts';
import { Certificate } from '../ocsp/certificate.ts';
import { InputError } from '../ocsp/errors.ts';
import { readCertificates } from '../ocsp/pem.ts';
import { bytesEqual } from '../ocsp/bytes.ts';
import type { CertId } from '../ocsp/request.ts';
import { CertIdIndex } from './cert-id-index.ts';
import { IssuerBook, type Completion } from './issuers.ts';
import { derKey, lookupKeyOf, ManagedCertificate } from './managed.ts';

/** Unknown certificates registered from handshakes: remembered so a bad one is tried once. */
const MAX_HANDSHAKE_REGISTRATIONS = 1024;

export interface ResponderOverrides {
  /** Ask these responders instead of the certificates' AIA URLs. */
  readonly responderUrls?: readonly string[] | undefined;
  /** Per issuer: keys are the issuer's subject (RFC 4514) or its SHA-256 fingerprint (hex). */
  readonly responderUrlsByIssuer?: Readonly<Record<string, readonly string[]>> | undefined;
}

export interface Candidate {
  readonly leaf: Certificate;
  readonly issuer: Certificate | null;
  /** Certificates registered earlier whose issuer this chain brought: ready to start now. */
  readonly completed: readonly ManagedCertificate[];
}

export class CertificateRegistry {
  private readonly byId = new Map<string, ManagedCertificate>();
  private readonly byKey = new Map<string, ManagedCertificate>();
  /** Certificates whose short key another one took first (never seen in practice): by whole DER. */
  private readonly collided = new Map<string, ManagedCertificate>();
  private readonly issuers = new IssuerBook();
  /** By OCSP CertID, for the daemon's responder. */
  private readonly certIds = new CertIdIndex();
  private readonly watchers = new Set<(m: ManagedCertificate) => void>();
  private readonly seenInHandshakes = new Set<string>();
  /** One shared list per distinct set of responder URLs: thousands of certificates name the same few. */
  private readonly urlLists = new Map<string, readonly string[]>();

  constructor(private overrides: ResponderOverrides) {}

  /** New responder overrides: each certificate's URLs are worked out again; returns those that became fetchable. */
  setOverrides(overrides: ResponderOverrides): Set<ManagedCertificate> {
    const same =
      JSON.stringify([overrides.responderUrls, overrides.responderUrlsByIssuer]) ===
      JSON.stringify([this.overrides.responderUrls, this.overrides.responderUrlsByIssuer]);
    this.overrides = overrides;
    const nowFetchable = new Set<ManagedCertificate>();
    if (same) return nowFetchable;
    this.urlLists.clear();
    for (const m of this.byId.values()) {
      if (m.urlOverride) continue;
      const was = m.fetchable;
      m.urls = this.responderUrlsFor(m.cert, m.issuer);
      if (!was && m.fetchable) nowFetchable.add(m);
    }
    return nowFetchable;
  }

  /**
   * Read a certificate with its chain (and an optional separate issuer), and find its issuer. A
   * chain's CA certificates already known are not parsed again, and a leaf already registered is
   * not checked again (unless an issuer is given for it).
   */
  async read(certificate: Uint8Array, label: string, issuerInput?: Uint8Array): Promise<Candidate> {
    const known = (der: Uint8Array): Certificate | undefined => this.issuers.knownByDer(der);
    const chain = readCertificates(certificate, label, known);
    const leaf = chain[0]!;
    const extra = issuerInput === undefined ? [] : readCertificates(issuerInput, `${label} (issuer)`, known);
    const { canonical, completed } = this.issuers.learn([...extra, ...chain.slice(1)]);
    const registered = issuerInput === undefined ? this.byDer(leaf.der) : undefined;
    const issuer = registered ? registered.issuer : await this.issuers.issuerOf(leaf, canonical);
    if (issuerInput !== undefined && !issuer) throw new InputError(`${label} (issuer)`, `is not the issuer of "${leaf.subject}"`);
    return { leaf, issuer, completed: this.complete(completed) };
  }

  /** Give waiting certificates the issuer a chain brought; their responder URLs may depend on it. */
  private complete(completions: readonly Completion[]): ManagedCertificate[] {
    for (const c of completions) {
      c.managed.issuer = c.issuer;
      this.certIds.add(c.managed);
      if (!c.managed.urlOverride) c.managed.urls = this.responderUrlsFor(c.managed.cert, c.issuer);
    }
    return completions.map((c) => c.managed);
  }

  /**
   * A certificate met in a handshake that was never added: read it, with the issuer OpenSSL
   * passed or one seen before. Null when it was tried recently (a bad one is tried once).
   */
  async readFromHandshake(certDer: Buffer, issuerDer: Buffer | null): Promise<Candidate | null> {
    const key = createHash('sha256').update(certDer).digest('hex');
    if (this.seenInHandshakes.has(key)) return null;
    if (this.seenInHandshakes.size >= MAX_HANDSHAKE_REGISTRATIONS) this.seenInHandshakes.clear();
    this.seenInHandshakes.add(key);
    const leaf = new Certificate(ownedCopy(certDer), 'certificate from a handshake');
    const offered = issuerDer ? [new Certificate(ownedCopy(issuerDer), 'issuer from a handshake')] : [];
    const { canonical, completed } = this.issuers.learn(offered);
    const issuer = await this.issuers.issuerOf(leaf, canonical);
    return { leaf, issuer, completed: this.complete(completed) };
  }

  /** Register a certificate; an existing registration of the same DER is returned as it is. */
  insert(leaf: Certificate, issuer: Certificate | null, urlOverride?: readonly string[]): { managed: ManagedCertificate; added: boolean } {
    const existing = this.byDer(leaf.der);
    if (existing) return { managed: existing, added: false };
    const managed = new ManagedCertificate(leaf, issuer, urlOverride ?? this.responderUrlsFor(leaf, issuer));
    if (urlOverride) managed.urlOverride = true;
    this.byId.set(managed.id, managed);
    if (this.byKey.has(managed.lookupKey)) this.collided.set(derKey(leaf.der), managed);
    else this.byKey.set(managed.lookupKey, managed);
    if (managed.urls.length > 0 && !issuer) this.issuers.await(managed);
    this.certIds.add(managed);
    for (const watcher of this.watchers) watcher(managed);
    return { managed, added: true };
  }

  remove(id: string): ManagedCertificate | null {
    const managed = this.byId.get(id);
    if (!managed) return null;
    this.issuers.forget(managed);
    this.certIds.remove(managed);
    if (this.byKey.get(managed.lookupKey) === managed) this.byKey.delete(managed.lookupKey);
    else this.collided.delete(derKey(managed.cert.der));
    this.byId.delete(id);
    return managed;
  }

  get(id: string): ManagedCertificate | undefined {
    return this.byId.get(id);
  }

  /** The registration for a certificate's DER (the handshake path: no hashing). */
  byDer(der: Uint8Array): ManagedCertificate | undefined {
    const m = this.byKey.get(lookupKeyOf(der));
    if (m && bytesEqual(m.cert.der, der)) return m;
    return this.collided.size > 0 ? this.collided.get(derKey(der)) : undefined;
  }

  /** The registration an OCSP CertID names exactly (SHA-1 and SHA-256 CertIDs). */
  byCertId(id: CertId): ManagedCertificate | undefined {
    return this.certIds.find(id);
  }

  isRegistered(managed: ManagedCertificate): boolean {
    return this.byId.get(managed.id) === managed;
  }

  all(): IterableIterator<ManagedCertificate> {
    return this.byId.values();
  }

  /** Be told of each certificate registered from now on; returns an unsubscribe function. */
  onRegister(fn: (m: ManagedCertificate) => void): () => void {
    this.watchers.add(fn);
    return () => this.watchers.delete(fn);
  }

  private responderUrlsFor(leaf: Certificate, issuer: Certificate | null): readonly string[] {
    const urls = this.chooseResponderUrls(leaf, issuer);
    const key = urls.join('\n');
    const shared = this.urlLists.get(key);
    if (shared) return shared;
    this.urlLists.set(key, urls);
    return urls;
  }

  private chooseResponderUrls(leaf: Certificate, issuer: Certificate | null): readonly string[] {
    const byIssuer = this.overrides.responderUrlsByIssuer;
    if (issuer && byIssuer) {
      const fingerprint = createHash('sha256').update(issuer.der).digest('hex');
      const urls = byIssuer[issuer.subject] ?? byIssuer[fingerprint];
      if (urls?.length) return urls;
    }
    if (this.overrides.responderUrls?.length && leaf.ocspUrls.length > 0) return this.overrides.responderUrls;
    return leaf.ocspUrls;
  }
}
