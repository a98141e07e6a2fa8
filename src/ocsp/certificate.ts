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

export class Certificate {
  readonly der: Uint8Array;
  readonly tbs: Uint8Array;
  /** The serial's INTEGER content bytes, exactly as encoded. */
  readonly serial: Uint8Array;
  readonly issuerName: Uint8Array;
  readonly subjectName: Uint8Array;
  readonly issuer: string;
  readonly subject: string;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly spki: Uint8Array;
  /** The subjectPublicKey BIT STRING's value: what an OCSP CertID's issuerKeyHash hashes. */
  readonly publicKeyBits: Uint8Array;
  readonly signatureAlgorithm: SignatureAlgorithm;
  readonly signature: Uint8Array;
  readonly ocspUrls: readonly string[] = [];
  readonly caIssuersUrls: readonly string[] = [];
  readonly mustStaple: boolean = false;
  /** Extended key usages, or null when the extension is absent. */
  readonly extKeyUsage: readonly string[] | null = null;
  readonly isCA: boolean = false;
  readonly subjectKeyId: Uint8Array | null = null;
  readonly authorityKeyId: Uint8Array | null = null;
  readonly unknownCriticalExtensions: readonly string[] = [];

  private key: KeyObject | undefined;
  private serialHexCache: string | undefined;
  // Created on first use: only issuers need them, and an empty Map still costs memory per leaf.
  private keyHashes: Map<HashName, Buffer> | undefined;
  private nameHashes: Map<HashName, Buffer> | undefined;

  /** Parse one DER certificate; DER errors name the field, and `label` names the item. */
  constructor(der: Uint8Array, label = 'certificate') {
    try {
      const { reader, tlv } = DerReader.whole(der, 'Certificate');
      const cert = reader.enter(tlv, 'Certificate');
      const tbsTlv = cert.next('tbsCertificate', TAG.SEQUENCE);
      this.tbs = cert.raw(tbsTlv);
      this.signatureAlgorithm = readSignatureAlgorithm(cert, 'signatureAlgorithm');
      this.signature = cert.bitStringBytes(cert.next('signatureValue', TAG.BIT_STRING), 'signatureValue');
      cert.finish('Certificate');

      const tbs = cert.enter(tbsTlv, 'tbsCertificate');
      const versionTlv = tbs.optional(ctx(0), 'version');
      let version = 0;
      if (versionTlv) {
        const v = tbs.enter(versionTlv, 'version');
        version = v.smallUint(v.next('version', TAG.INTEGER), 'version');
        v.finish('version');
        if (version > 2) throw new DerError('version', `unknown certificate version ${version + 1}`, versionTlv.start);
      }
      this.serial = tbs.integerBytes(tbs.next('serialNumber', TAG.INTEGER), 'serialNumber');
      tbs.next('signature', TAG.SEQUENCE);
      const issuerTlv = tbs.next('issuer', TAG.SEQUENCE);
      this.issuerName = tbs.raw(issuerTlv);
      this.issuer = readName(tbs, issuerTlv, 'issuer');
      const validity = tbs.sequence('validity');
      this.notBefore = validity.time(validity.next('validity.notBefore'), 'validity.notBefore');
      this.notAfter = validity.time(validity.next('validity.notAfter'), 'validity.notAfter');
      validity.finish('validity');
      const subjectTlv = tbs.next('subject', TAG.SEQUENCE);
      this.subjectName = tbs.raw(subjectTlv);
      this.subject = readName(tbs, subjectTlv, 'subject');
      const spkiTlv = tbs.next('subjectPublicKeyInfo', TAG.SEQUENCE);
      this.spki = tbs.raw(spkiTlv);
      const spki = tbs.enter(spkiTlv, 'subjectPublicKeyInfo');
      spki.next('subjectPublicKeyInfo.algorithm', TAG.SEQUENCE);
      this.publicKeyBits = spki.bitStringBytes(spki.next('subjectPublicKey', TAG.BIT_STRING), 'subjectPublicKey');
      spki.finish('subjectPublicKeyInfo');
      tbs.optional(ctxPrim(1), 'issuerUniqueID');
      tbs.optional(ctxPrim(2), 'subjectUniqueID');
      const extTlv = tbs.optional(ctx(3), 'extensions');
      tbs.finish('tbsCertificate');
      if (extTlv) {
        if (version !== 2) throw new DerError('extensions', 'extensions need a v3 certificate', extTlv.start);
        Object.assign(this, readExtensions(tbs.enter(extTlv, 'extensions')));
      }
      this.der = der;
    } catch (err) {
      if (err instanceof DerError) throw new InputError(label, `not a valid certificate: ${err.message}`);
      throw err;
    }
  }

  /** Serial number in hex, upper case, without the sign-padding zero byte (as openssl prints it). */
  get serialHex(): string {
    if (this.serialHexCache === undefined) {
      const s = this.serial.length > 1 && this.serial[0] === 0 ? this.serial.subarray(1) : this.serial;
      this.serialHexCache = Buffer.from(s).toString('hex').toUpperCase();
    }
    return this.serialHexCache;
  }

  publicKey(): KeyObject {
    this.key ??= createPublicKey({ key: Buffer.from(this.spki), format: 'der', type: 'spki' });
    return this.key;
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
    let key: KeyObject;
    try {
      key = candidate.publicKey();
    } catch {
      return false;
    }
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
  ocspUrls: string[];
  caIssuersUrls: string[];
  mustStaple: boolean;
  extKeyUsage: string[] | null;
  isCA: boolean;
  subjectKeyId: Uint8Array | null;
  authorityKeyId: Uint8Array | null;
  unknownCriticalExtensions: string[];
}

function readExtensions(outer: DerReader): ExtensionFacts {
  const facts: ExtensionFacts = {
    ocspUrls: [],
    caIssuersUrls: [],
    mustStaple: false,
    extKeyUsage: null,
    isCA: false,
    subjectKeyId: null,
    authorityKeyId: null,
    unknownCriticalExtensions: [],
  };
  const list = outer.sequence('extensions');
  outer.finish('extensions');
  const seen = new Set<string>();
  while (!list.atEnd()) {
    const ext = list.sequence('extension');
    const id = ext.oid(ext.next('extension.extnID', TAG.OID), 'extension.extnID');
    const f = `extension ${id}`;
    if (seen.has(id)) throw new DerError(f, 'duplicate extension', 0);
    seen.add(id);
    const criticalTlv = ext.optional(TAG.BOOLEAN, f);
    const critical = criticalTlv ? ext.boolean(criticalTlv, f) : false;
    const valueTlv = ext.next(`${f}.extnValue`, TAG.OCTET_STRING);
    ext.finish(f);
    if (critical && !UNDERSTOOD_EXTENSIONS.has(id)) facts.unknownCriticalExtensions.push(id);
    const { reader: v, tlv } = DerReader.whole(ext.octets(valueTlv, f), f, ext.budget);
    switch (id) {
      case OID.authorityInfoAccess:
        readAia(v, tlv, facts);
        break;
      case OID.tlsFeature: {
        const seq = v.enter(tlv, f);
        while (!seq.atEnd()) {
          if (seq.smallUint(seq.next(f, TAG.INTEGER), f) === TLS_FEATURE_STATUS_REQUEST) facts.mustStaple = true;
        }
        break;
      }
      case OID.extKeyUsage: {
        const seq = v.enter(tlv, f);
        facts.extKeyUsage = [];
        while (!seq.atEnd()) facts.extKeyUsage.push(seq.oid(seq.next(f, TAG.OID), f));
        break;
      }
      case OID.basicConstraints: {
        const seq = v.enter(tlv, f);
        const ca = seq.optional(TAG.BOOLEAN, f);
        facts.isCA = ca ? seq.boolean(ca, f) : false;
        break;
      }
      case OID.subjectKeyIdentifier:
        facts.subjectKeyId = v.octets(tlv, f);
        break;
      case OID.authorityKeyIdentifier: {
        const seq = v.enter(tlv, f);
        const keyId = seq.optional(ctxPrim(0), f);
        if (keyId) facts.authorityKeyId = seq.contents(keyId);
        break;
      }
    }
  }
  return facts;
}

function readAia(v: DerReader, tlv: Tlv, facts: ExtensionFacts): void {
  const f = 'authorityInfoAccess';
  const seq = v.enter(tlv, f);
  while (!seq.atEnd()) {
    const desc = seq.sequence(f);
    const method = desc.oid(desc.next(`${f}.accessMethod`, TAG.OID), `${f}.accessMethod`);
    const location = desc.next(`${f}.accessLocation`);
    desc.finish(f);
    // uniformResourceIdentifier [6] IA5String; other GeneralName forms are not fetchable.
    if (location.tag !== ctxPrim(6)) continue;
    const url = Buffer.from(desc.contents(location)).toString('latin1');
    if (method === OID.adOcsp) facts.ocspUrls.push(url);
    else if (method === OID.adCaIssuers) facts.caIssuersUrls.push(url);
  }
}

/** A Name as an RFC 4514 string (most specific first), for display and logs. */
function readName(parent: DerReader, tlv: Tlv, field: string): string {
  const rdns: string[] = [];
  const seq = parent.enter(tlv, field);
  while (!seq.atEnd()) {
    const set = seq.sequence(field, TAG.SET);
    const parts: string[] = [];
    while (!set.atEnd()) {
      const atv = set.sequence(field);
      const type = atv.oid(atv.next(field, TAG.OID), field);
      const value = atv.string(atv.next(field), field);
      atv.finish(field);
      parts.push(`${NAME_ATTRIBUTES[type] ?? type}=${escapeNameValue(value)}`);
    }
    rdns.unshift(parts.join('+'));
  }
  return rdns.join(',');
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
