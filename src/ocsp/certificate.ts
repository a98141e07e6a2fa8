// Certificate facts: what stapling needs to know about a certificate, read with our DER reader.

import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { bytesEqual, serialHex } from './bytes.ts';
import { NO_EXTENSIONS, readAlgorithmIdentifier, readEkuList, readExtensions } from './certificate-extensions.ts';
import { DerError, DerReader, TAG, ctx, ctxPrim } from './der.ts';
import { InputError } from './errors.ts';
import { checkName, nameToString } from './names.ts';
import { checkSignature, checkSignatureAsync, readSignatureAlgorithm, type HashName, type SignatureAlgorithm } from './signature.ts';

export { nameToString } from './names.ts';

const NONE: readonly string[] = Object.freeze([]);

/**
 * A parsed certificate. It keeps its DER and the offsets of the fields it needs, not views or
 * trees: a process may hold tens of thousands of these. The byte-valued fields are getters that
 * return fresh views; names and EKUs are decoded when asked for.
 */
export class Certificate {
  readonly der: Uint8Array;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly signatureAlgorithm: SignatureAlgorithm;
  readonly ocspUrls: readonly string[];
  readonly caIssuersUrls: readonly string[];
  readonly mustStaple: boolean;
  readonly isCA: boolean;
  readonly unknownCriticalExtensions: readonly string[];

  // Offsets into `der` (start, end); -1 when absent.
  private readonly tbsAt: number;
  private readonly tbsEnd: number;
  private readonly serialAt: number;
  private readonly serialEnd: number;
  private readonly issuerAt: number;
  private readonly issuerEnd: number;
  private readonly subjectAt: number;
  private readonly subjectEnd: number;
  private readonly spkiAt: number;
  private readonly spkiEnd: number;
  private readonly keyBitsAt: number;
  private readonly signatureAt: number;
  private readonly ekuAt: number;
  private readonly ekuEnd: number;
  private readonly skidAt: number;
  private readonly skidEnd: number;
  private readonly akidAt: number;
  private readonly akidEnd: number;

  private key: KeyObject | undefined;
  private serialHexCache: string | undefined;
  // Decoded on first use: delegated responders are asked on every verification, leaves never.
  private ekuCache: readonly string[] | null | undefined;
  // Created on first use: only issuers need them, and an empty Map still costs memory per leaf.
  private keyHashes: Map<HashName, Buffer> | undefined;
  private nameHashes: Map<HashName, Buffer> | undefined;

  /** Parse one DER certificate; DER errors name the field, and `label` names the item. */
  constructor(der: Uint8Array, label = 'certificate') {
    try {
      const { reader, tlv } = DerReader.whole(der, 'Certificate');
      if (tlv.tag !== TAG.SEQUENCE) throw new DerError('Certificate', 'expected a SEQUENCE', 0);
      const cert = reader.enter(tlv, 'Certificate');
      const tbsTlv = cert.next('tbsCertificate', TAG.SEQUENCE);
      const outerAlgAt = cert.offset;
      this.signatureAlgorithm = readSignatureAlgorithm(cert, 'signatureAlgorithm');
      const outerAlg = der.subarray(outerAlgAt, cert.offset);
      this.signatureAt = cert.bitStringBytes(cert.next('signatureValue', TAG.BIT_STRING), 'signatureValue').byteOffset - der.byteOffset;
      cert.finish('Certificate');
      this.tbsAt = tbsTlv.start;
      this.tbsEnd = tbsTlv.end;

      const tbs = cert.enter(tbsTlv, 'tbsCertificate');
      const version = tbs.optionalNested(ctx(0), 'version', (v) => v.smallUint(v.next('version', TAG.INTEGER), 'version')) ?? 0;
      if (version > 2) throw new DerError('version', `unknown certificate version ${version + 1}`, tbsTlv.contentStart);
      const serialTlv = tbs.next('serialNumber', TAG.INTEGER);
      tbs.integerBytes(serialTlv, 'serialNumber');
      this.serialAt = serialTlv.contentStart;
      this.serialEnd = serialTlv.end;
      // RFC 5280 4.1.1.2: the signed copy of the algorithm must be the outer one, byte for byte.
      const innerAlgAt = tbs.offset;
      readSignatureAlgorithm(tbs, 'tbsCertificate.signature');
      if (!bytesEqual(der.subarray(innerAlgAt, tbs.offset), outerAlg)) {
        throw new DerError('tbsCertificate.signature', 'differs from the outer signatureAlgorithm (RFC 5280 4.1.1.2)', innerAlgAt);
      }
      const issuerTlv = tbs.next('issuer', TAG.SEQUENCE);
      checkName(tbs, issuerTlv, 'issuer');
      this.issuerAt = issuerTlv.start;
      this.issuerEnd = issuerTlv.end;
      const validity = tbs.nested(TAG.SEQUENCE, 'validity', (r) => ({
        notBefore: r.time(r.next('validity.notBefore'), 'validity.notBefore'),
        notAfter: r.time(r.next('validity.notAfter'), 'validity.notAfter'),
      }));
      this.notBefore = validity.notBefore;
      this.notAfter = validity.notAfter;
      const subjectTlv = tbs.next('subject', TAG.SEQUENCE);
      checkName(tbs, subjectTlv, 'subject');
      this.subjectAt = subjectTlv.start;
      this.subjectEnd = subjectTlv.end;
      this.spkiAt = tbs.offset;
      this.keyBitsAt = tbs.nested(TAG.SEQUENCE, 'subjectPublicKeyInfo', (spki) => {
        readAlgorithmIdentifier(spki, 'subjectPublicKeyInfo.algorithm');
        return spki.bitStringBytes(spki.next('subjectPublicKey', TAG.BIT_STRING), 'subjectPublicKey').byteOffset - der.byteOffset;
      });
      this.spkiEnd = tbs.offset;
      const issuerUid = tbs.optional(ctxPrim(1), 'issuerUniqueID');
      if (issuerUid) tbs.bitString(issuerUid, 'issuerUniqueID');
      const subjectUid = tbs.optional(ctxPrim(2), 'subjectUniqueID');
      if (subjectUid) tbs.bitString(subjectUid, 'subjectUniqueID');
      if ((issuerUid || subjectUid) && version < 1) throw new DerError('issuerUniqueID', 'unique identifiers need a v2 or v3 certificate', tbsTlv.contentStart);
      const extTlv = tbs.optional(ctx(3), 'extensions');
      tbs.finish('tbsCertificate');
      let facts = NO_EXTENSIONS;
      if (extTlv) {
        if (version !== 2) throw new DerError('extensions', 'extensions need a v3 certificate', extTlv.start);
        const outer = tbs.enter(extTlv, 'extensions');
        facts = readExtensions(outer);
        outer.finish('extensions');
      }
      this.ocspUrls = facts.ocspUrls.length > 0 ? facts.ocspUrls : NONE;
      this.caIssuersUrls = facts.caIssuersUrls.length > 0 ? facts.caIssuersUrls : NONE;
      this.mustStaple = facts.mustStaple;
      this.isCA = facts.isCA;
      this.unknownCriticalExtensions = facts.unknownCritical.length > 0 ? facts.unknownCritical : NONE;
      const base = der.byteOffset;
      this.ekuAt = facts.eku ? facts.eku.byteOffset - base : -1;
      this.ekuEnd = facts.eku ? this.ekuAt + facts.eku.length : -1;
      this.skidAt = facts.skid ? facts.skid.byteOffset - base : -1;
      this.skidEnd = facts.skid ? this.skidAt + facts.skid.length : -1;
      this.akidAt = facts.akid ? facts.akid.byteOffset - base : -1;
      this.akidEnd = facts.akid ? this.akidAt + facts.akid.length : -1;
      this.der = der;
      this.key = undefined;
      this.serialHexCache = undefined;
      this.ekuCache = undefined;
      this.keyHashes = undefined;
      this.nameHashes = undefined;
    } catch (err) {
      if (err instanceof DerError) throw new InputError(label, `not a valid certificate: ${err.message}`);
      throw err;
    }
  }

  private view(start: number, end: number): Uint8Array {
    return new Uint8Array(this.der.buffer, this.der.byteOffset + start, end - start);
  }

  /** The exact DER of tbsCertificate: the bytes the signature covers. */
  get tbs(): Uint8Array {
    return this.view(this.tbsAt, this.tbsEnd);
  }
  /** The serial's INTEGER content bytes, exactly as encoded. */
  get serial(): Uint8Array {
    return this.view(this.serialAt, this.serialEnd);
  }
  get issuerName(): Uint8Array {
    return this.view(this.issuerAt, this.issuerEnd);
  }
  get subjectName(): Uint8Array {
    return this.view(this.subjectAt, this.subjectEnd);
  }
  /** The issuer's name as an RFC 4514 string (decoded on each call: it is for display). */
  get issuer(): string {
    return nameToString(this.issuerName);
  }
  get subject(): string {
    return nameToString(this.subjectName);
  }
  get spki(): Uint8Array {
    return this.view(this.spkiAt, this.spkiEnd);
  }
  /** The subjectPublicKey BIT STRING's value: what an OCSP CertID's issuerKeyHash hashes. */
  get publicKeyBits(): Uint8Array {
    return this.view(this.keyBitsAt, this.spkiEnd);
  }
  get signature(): Uint8Array {
    return this.view(this.signatureAt, this.der.length);
  }
  /** Extended key usages, or null when the extension is absent. */
  get extKeyUsage(): readonly string[] | null {
    if (this.ekuCache === undefined) {
      if (this.ekuAt < 0) this.ekuCache = null;
      else {
        const { reader, tlv } = DerReader.whole(this.view(this.ekuAt, this.ekuEnd), 'extKeyUsage');
        this.ekuCache = Object.freeze(readEkuList(reader.enter(tlv, 'extKeyUsage')));
      }
    }
    return this.ekuCache;
  }
  get subjectKeyId(): Uint8Array | null {
    return this.skidAt < 0 ? null : this.view(this.skidAt, this.skidEnd);
  }
  get authorityKeyId(): Uint8Array | null {
    return this.akidAt < 0 ? null : this.view(this.akidAt, this.akidEnd);
  }

  /** Serial number in hex, upper case, without the sign-padding zero byte (as openssl prints it). */
  get serialHex(): string {
    this.serialHexCache ??= serialHex(this.serial);
    return this.serialHexCache;
  }

  /** The public key. Throws (node:crypto's error) if the key cannot be loaded; see tryPublicKey. */
  publicKey(): KeyObject {
    this.key ??= createPublicKey({ key: Buffer.from(this.spki), format: 'der', type: 'spki' });
    return this.key;
  }

  /** The public key, or undefined when node:crypto cannot load it (an unknown or corrupt key). */
  tryPublicKey(): KeyObject | undefined {
    try {
      return this.publicKey();
    } catch {
      return undefined;
    }
  }

  /** Hash of this certificate's public key, as an OCSP CertID names an issuer (memoized). */
  keyHash(hash: HashName): Buffer {
    this.keyHashes ??= new Map();
    let h = this.keyHashes.get(hash);
    if (!h) this.keyHashes.set(hash, (h = createHash(hash).update(this.publicKeyBits).digest()));
    return h;
  }

  /** Hash of this certificate's subject name (what a CertID's issuerNameHash is, for certificates it issued). */
  subjectNameHash(hash: HashName): Buffer {
    this.nameHashes ??= new Map();
    let h = this.nameHashes.get(hash);
    if (!h) this.nameHashes.set(hash, (h = createHash(hash).update(this.subjectName).digest()));
    return h;
  }

  /** True if `candidate`'s key verifies this certificate's signature, and the names chain. */
  isIssuedBy(candidate: Certificate, allowSha1 = true): boolean {
    if (!bytesEqual(this.issuerName, candidate.subjectName)) return false;
    const key = candidate.tryPublicKey();
    if (!key) return false;
    return checkSignature(this.signatureAlgorithm, this.tbs, this.signature, key, allowSha1).ok;
  }

  /** isIssuedBy, with the signature checked on libuv's thread pool (the event loop stays free). */
  async isIssuedByAsync(candidate: Certificate, allowSha1 = true): Promise<boolean> {
    if (!bytesEqual(this.issuerName, candidate.subjectName)) return false;
    const key = candidate.tryPublicKey();
    if (!key) return false;
    return (await checkSignatureAsync(this.signatureAlgorithm, this.tbs, this.signature, key, allowSha1)).ok;
  }

  hasExtKeyUsage(oid: string): boolean {
    return this.extKeyUsage?.includes(oid) ?? false;
  }

  /** True when `time` lies within notBefore..notAfter. */
  isValidAt(time: number): boolean {
    return time >= this.notBefore && time <= this.notAfter;
  }
}
