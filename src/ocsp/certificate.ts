// Certificate facts: what stapling needs to know about a certificate, read with our DER reader.

import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { DerError, DerReader, TAG, ctx, ctxPrim, type Tlv } from './der.ts';
import { InputError } from './errors.ts';
import { NAME_ATTRIBUTES, OID } from './oids.ts';
import { checkSignature, readSignatureAlgorithm, type HashName, type SignatureAlgorithm } from './signature.ts';
import { bytesEqual } from './bytes.ts';

/** Extensions we understand; any other critical one makes a certificate unfit to sign OCSP. */
const UNDERSTOOD_EXTENSIONS = new Set<string>([
  OID.authorityInfoAccess,
  OID.tlsFeature,
  OID.extKeyUsage,
  OID.basicConstraints,
  OID.keyUsage,
  OID.subjectKeyIdentifier,
  OID.authorityKeyIdentifier,
  OID.ocspNoCheck,
  '2.5.29.17', // subjectAltName
  '2.5.29.32', // certificatePolicies
  '2.5.29.31', // cRLDistributionPoints
  '2.5.29.30', // nameConstraints (a CA matter; not ours to enforce)
]);

/** TLS Feature value for status_request (RFC 7633): the Must-Staple marker. */
const TLS_FEATURE_STATUS_REQUEST = 5;

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
    if (this.ekuAt < 0) return null;
    const { reader, tlv } = DerReader.whole(this.view(this.ekuAt, this.ekuEnd), 'extKeyUsage');
    return readEkuList(reader.enter(tlv, 'extKeyUsage'));
  }
  get subjectKeyId(): Uint8Array | null {
    return this.skidAt < 0 ? null : this.view(this.skidAt, this.skidEnd);
  }
  get authorityKeyId(): Uint8Array | null {
    return this.akidAt < 0 ? null : this.view(this.akidAt, this.akidEnd);
  }

  /** Serial number in hex, upper case, without the sign-padding zero byte (as openssl prints it). */
  get serialHex(): string {
    if (this.serialHexCache === undefined) {
      const serial = this.serial;
      const s = serial.length > 1 && serial[0] === 0 ? serial.subarray(1) : serial;
      this.serialHexCache = Buffer.from(s.buffer, s.byteOffset, s.length).toString('hex').toUpperCase();
    }
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

  hasExtKeyUsage(oid: string): boolean {
    return this.extKeyUsage?.includes(oid) ?? false;
  }

  /** True when `time` lies within notBefore..notAfter. */
  isValidAt(time: number): boolean {
    return time >= this.notBefore && time <= this.notAfter;
  }
}

interface ExtensionFacts {
  readonly ocspUrls: string[];
  readonly caIssuersUrls: string[];
  mustStaple: boolean;
  isCA: boolean;
  /** extnValue contents of extKeyUsage, decoded on demand. */
  eku: Uint8Array | null;
  skid: Uint8Array | null;
  akid: Uint8Array | null;
  readonly unknownCritical: string[];
}

const NO_EXTENSIONS: ExtensionFacts = Object.freeze({
  ocspUrls: [],
  caIssuersUrls: [],
  mustStaple: false,
  isCA: false,
  eku: null,
  skid: null,
  akid: null,
  unknownCritical: [],
});

/** An AlgorithmIdentifier whose parameters we do not interpret: an OID and at most one element. */
function readAlgorithmIdentifier(r: DerReader, field: string): void {
  r.nested(TAG.SEQUENCE, field, (seq) => {
    seq.oid(seq.next(field, TAG.OID), field);
    if (!seq.atEnd()) seq.any(`${field}.parameters`);
  });
}

function readEkuList(seq: DerReader): string[] {
  const out: string[] = [];
  while (!seq.atEnd()) out.push(seq.oid(seq.next('extKeyUsage', TAG.OID), 'extKeyUsage'));
  return out;
}

function readExtensions(outer: DerReader): ExtensionFacts {
  const facts: ExtensionFacts = { ocspUrls: [], caIssuersUrls: [], mustStaple: false, isCA: false, eku: null, skid: null, akid: null, unknownCritical: [] };
  const seen = new Set<string>();
  outer.nested(TAG.SEQUENCE, 'extensions', (list) => {
    while (!list.atEnd()) {
      list.nested(TAG.SEQUENCE, 'extension', (ext) => {
        const id = ext.oid(ext.next('extension.extnID', TAG.OID), 'extension.extnID');
        const f = `extension ${id}`;
        if (seen.has(id)) throw new DerError(f, 'duplicate extension', ext.offset);
        seen.add(id);
        const criticalTlv = ext.optional(TAG.BOOLEAN, f);
        const critical = criticalTlv ? ext.boolean(criticalTlv, f) : false;
        const valueTlv = ext.next(`${f}.extnValue`, TAG.OCTET_STRING);
        if (critical && !UNDERSTOOD_EXTENSIONS.has(id)) facts.unknownCritical.push(id);
        readExtensionValue(id, f, ext.enterOctets(valueTlv, f), facts);
      });
    }
  });
  return facts;
}

/** Decode the extensions we use; the reader holds exactly one element (the extnValue's DER). */
function readExtensionValue(id: string, f: string, v: DerReader, facts: ExtensionFacts): void {
  switch (id) {
    case OID.authorityInfoAccess:
      v.nested(TAG.SEQUENCE, f, (seq) => readAia(seq, facts));
      break;
    case OID.tlsFeature:
      v.nested(TAG.SEQUENCE, f, (seq) => {
        while (!seq.atEnd()) if (seq.smallUint(seq.next(f, TAG.INTEGER), f) === TLS_FEATURE_STATUS_REQUEST) facts.mustStaple = true;
      });
      break;
    case OID.extKeyUsage: {
      const tlv = v.next(f, TAG.SEQUENCE);
      readEkuList(v.enter(tlv, f));
      facts.eku = v.raw(tlv);
      break;
    }
    case OID.basicConstraints:
      facts.isCA = v.nested(TAG.SEQUENCE, f, (seq) => {
        const ca = seq.optional(TAG.BOOLEAN, f);
        const isCA = ca ? seq.boolean(ca, f) : false;
        const pathLen = seq.optional(TAG.INTEGER, f);
        if (pathLen) seq.integerBytes(pathLen, f);
        return isCA;
      });
      break;
    case OID.subjectKeyIdentifier:
      facts.skid = v.octets(v.next(f, TAG.OCTET_STRING), f);
      break;
    case OID.authorityKeyIdentifier:
      facts.akid = v.nested(TAG.SEQUENCE, f, (seq) => {
        const keyId = seq.optional(ctxPrim(0), f);
        // authorityCertIssuer [1] and authorityCertSerialNumber [2]: read past, not used.
        seq.optional(ctx(1), f);
        seq.optional(ctxPrim(2), f);
        return keyId ? seq.octets(keyId, f) : null;
      });
      break;
    default:
      // Not ours to interpret: one element, left opaque.
      v.next(f);
  }
  v.finish(f);
}

function readAia(seq: DerReader, facts: ExtensionFacts): void {
  const f = 'authorityInfoAccess';
  while (!seq.atEnd()) {
    seq.nested(TAG.SEQUENCE, f, (desc) => {
      const method = desc.oid(desc.next(`${f}.accessMethod`, TAG.OID), `${f}.accessMethod`);
      const location = desc.next(`${f}.accessLocation`);
      // uniformResourceIdentifier [6] IA5String; other GeneralName forms are not fetchable.
      if (location.tag !== ctxPrim(6)) return;
      const url = Buffer.from(desc.contents(location)).toString('latin1');
      if (method === OID.adOcsp) facts.ocspUrls.push(url);
      else if (method === OID.adCaIssuers) facts.caIssuersUrls.push(url);
    });
  }
}

/** Check a Name as readName reads it, without building its text: the text is made when asked for. */
function checkName(parent: DerReader, tlv: Tlv, field: string): void {
  const seq = parent.enter(tlv, field);
  while (!seq.atEnd()) {
    seq.nested(TAG.SET, field, (set) => {
      while (!set.atEnd()) {
        set.nested(TAG.SEQUENCE, field, (atv) => {
          atv.oid(atv.next(field, TAG.OID), field);
          atv.checkNameValue(atv.next(field), field);
        });
      }
    });
  }
}

/** A Name as an RFC 4514 string (most specific first), for display and logs. */
function readName(parent: DerReader, tlv: Tlv, field: string): string {
  const rdns: string[] = [];
  const seq = parent.enter(tlv, field);
  while (!seq.atEnd()) {
    const parts: string[] = [];
    seq.nested(TAG.SET, field, (set) => {
      while (!set.atEnd()) {
        set.nested(TAG.SEQUENCE, field, (atv) => {
          const type = atv.oid(atv.next(field, TAG.OID), field);
          const value = atv.nameValue(atv.next(field), field);
          parts.push(`${NAME_ATTRIBUTES[type] ?? type}=${escapeNameValue(value)}`);
        });
      }
    });
    rdns.push(parts.join('+'));
  }
  // Pushed then reversed: unshift would make a name of many RDNs quadratic.
  return rdns.reverse().join(',');
}

function escapeNameValue(v: string): string {
  return v
    .replace(/[,+"\\<>;=]/g, (c) => `\\${c}`)
    .replace(/^[ #]|[ ]$/g, (c) => `\\${c}`)
    // eslint-disable-next-line no-control-regex -- escaping control characters is the point
    .replace(/[\x00-\x1f\x7f]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** A DER Name (as in a responder ID) as an RFC 4514 string. Throws DerError if malformed. */
export function nameToString(der: Uint8Array): string {
  const { reader, tlv } = DerReader.whole(der, 'Name');
  return readName(reader, tlv, 'Name');
}
