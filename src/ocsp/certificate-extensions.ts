// Certificate extensions: the ones stapling needs, read from a certificate's extensions field.

import { DerError, type DerReader, TAG, ctx, ctxPrim } from './der.ts';
import { OID } from './oids.ts';

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

export interface ExtensionFacts {
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

export const NO_EXTENSIONS: ExtensionFacts = Object.freeze({
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
export function readAlgorithmIdentifier(r: DerReader, field: string): void {
  r.nested(TAG.SEQUENCE, field, (seq) => {
    seq.oid(seq.next(field, TAG.OID), field);
    if (!seq.atEnd()) seq.any(`${field}.parameters`);
  });
}

export function readEkuList(seq: DerReader): string[] {
  const out: string[] = [];
  while (!seq.atEnd()) out.push(seq.oid(seq.next('extKeyUsage', TAG.OID), 'extKeyUsage'));
  return out;
}

export function readExtensions(outer: DerReader): ExtensionFacts {
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
