// Reading OCSP requests (RFC 6960 §4.1.1), for the daemon's responder. Strict DER on our own
// reader: every refusal is a DerError naming the field. Pure: bytes in, CertIDs out.
//
//   OCSPRequest ::= SEQUENCE { tbsRequest TBSRequest, optionalSignature [0] EXPLICIT Signature OPTIONAL }
//   TBSRequest  ::= SEQUENCE { version [0] EXPLICIT Version DEFAULT v1, requestorName [1] EXPLICIT GeneralName OPTIONAL,
//                              requestList SEQUENCE OF Request, requestExtensions [2] EXPLICIT Extensions OPTIONAL }
//   Request     ::= SEQUENCE { reqCert CertID, singleRequestExtensions [0] EXPLICIT Extensions OPTIONAL }
//   CertID      ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, issuerNameHash OCTET STRING,
//                              issuerKeyHash OCTET STRING, serialNumber CertificateSerialNumber }

import { bytesEqual } from './bytes.ts';
import { ctx, DerBudget, DerError, DerReader, TAG } from './der.ts';
import { oid as encodeOid } from './der-writer.ts';
import { OID } from './oids.ts';
import type { CertId } from './request.ts';
import type { HashName } from './signature.ts';

/** Bounds on what a request may hold: RFC 5019 clients send one CertID and one or two extensions. */
export const REQUEST_CAPS = {
  /** Largest request accepted (the responder's POST body limit too). */
  maxBytes: 10 * 1024,
  /** CertIDs in one requestList. */
  requests: 16,
  /** Extensions in requestExtensions or in one singleRequestExtensions. */
  extensions: 16,
} as const;

/** An OID's contents octets (its DER without tag and length): OIDs in requests are compared so, not as text. */
const contentsOf = (dotted: string): Uint8Array => encodeOid(dotted).subarray(2);
const HASH_BY_OID: ReadonlyArray<readonly [Uint8Array, HashName]> = [
  [contentsOf(OID.sha1), 'sha1'],
  [contentsOf(OID.sha256), 'sha256'],
  [contentsOf(OID.sha384), 'sha384'],
  [contentsOf(OID.sha512), 'sha512'],
];
const NONCE_OID = contentsOf(OID.ocspNonce);
const HASH_LENGTH: Readonly<Record<HashName, number>> = { sha1: 20, sha256: 32, sha384: 48, sha512: 64 };
/** Serial numbers are at most 20 octets (RFC 5280); some CAs emit 21 with a sign byte. */
const MAX_SERIAL_BYTES = 21;

/** An OCSP request as parsed by parseRequest: its CertIDs, and whether it carried a nonce or a signature. */
export interface ParsedRequest {
  readonly certIds: readonly CertId[];
  /** The request carried a nonce extension (the responder answers from its cache anyway: RFC 8954). */
  readonly hasNonce: boolean;
  /** The request carried an optionalSignature (accepted and not checked). */
  readonly signed: boolean;
}

/**
 * The request's CertIDs; `budget` bounds the work (linear in the length; tests measure it). A
 * reader that answers fewer CertIDs per request than REQUEST_CAPS allows (a responder answers one)
 * passes its own `maxCertIds`, so that a longer list is refused without reading it.
 */
export function parseRequest(der: Uint8Array, budget: DerBudget = DerBudget.forInput(der.length), maxCertIds: number = REQUEST_CAPS.requests): ParsedRequest {
  if (der.length > REQUEST_CAPS.maxBytes) throw new DerError('OCSPRequest', `larger than ${REQUEST_CAPS.maxBytes} bytes`, 0);
  const { reader, tlv } = DerReader.whole(der, 'OCSPRequest', budget);
  if (tlv.tag !== TAG.SEQUENCE) throw new DerError('OCSPRequest', 'expected a SEQUENCE', 0);
  const top = reader.enter(tlv, 'OCSPRequest');
  const parsed = top.nested(TAG.SEQUENCE, 'tbsRequest', (r) => readTbsRequest(r, Math.min(maxCertIds, REQUEST_CAPS.requests)));
  // Accepted and ignored: the answer is a public staple, the same for every requestor.
  const signed = top.optional(ctx(0), 'optionalSignature') !== undefined;
  top.finish('OCSPRequest');
  return { ...parsed, signed };
}

function readTbsRequest(r: DerReader, maxCertIds: number): Omit<ParsedRequest, 'signed'> {
  r.optionalNested(ctx(0), 'tbsRequest.version', (v) => {
    const version = v.smallUint(v.next('tbsRequest.version', TAG.INTEGER), 'tbsRequest.version');
    if (version !== 0) throw new DerError('tbsRequest.version', `unsupported version ${version + 1}`, 0);
  });
  r.optionalNested(ctx(1), 'tbsRequest.requestorName', (n) => void n.next('tbsRequest.requestorName'));
  const certIds = r.nested(TAG.SEQUENCE, 'tbsRequest.requestList', (list) => {
    const ids: CertId[] = [];
    while (!list.atEnd()) {
      if (ids.length >= maxCertIds)
        throw new DerError(
          'tbsRequest.requestList',
          maxCertIds === 1 ? 'more than one CertID (RFC 5019 allows one)' : `more than ${maxCertIds} requests`,
          list.offset,
        );
      ids.push(
        list.nested(TAG.SEQUENCE, 'Request', (req) => {
          const id = req.nested(TAG.SEQUENCE, 'Request.reqCert', readCertId);
          req.optionalNested(ctx(0), 'Request.singleRequestExtensions', (e) => void readExtensions(e, 'Request.singleRequestExtensions'));
          return id;
        }),
      );
    }
    if (ids.length === 0) throw new DerError('tbsRequest.requestList', 'empty: names no certificate', 0);
    return ids;
  });
  const hasNonce = r.optionalNested(ctx(2), 'tbsRequest.requestExtensions', (e) => readExtensions(e, 'tbsRequest.requestExtensions')) ?? false;
  return { certIds, hasNonce };
}

function readCertId(r: DerReader): CertId {
  const hash = r.nested(TAG.SEQUENCE, 'CertID.hashAlgorithm', (alg) => {
    const oidTlv = alg.next('CertID.hashAlgorithm', TAG.OID);
    const oid = alg.oidContents(oidTlv, 'CertID.hashAlgorithm');
    // Parameters: absent or NULL (both are seen).
    if (!alg.atEnd()) alg.null(alg.next('CertID.hashAlgorithm.parameters', TAG.NULL), 'CertID.hashAlgorithm.parameters');
    const name = HASH_BY_OID.find(([known]) => bytesEqual(known, oid))?.[1];
    if (!name) throw new DerError('CertID.hashAlgorithm', `unsupported hash ${alg.oid(oidTlv, 'CertID.hashAlgorithm')}`, 0);
    return name;
  });
  const issuerNameHash = hashOctets(r, hash, 'CertID.issuerNameHash');
  const issuerKeyHash = hashOctets(r, hash, 'CertID.issuerKeyHash');
  const serialTlv = r.next('CertID.serialNumber', TAG.INTEGER);
  const serial = r.integerBytes(serialTlv, 'CertID.serialNumber');
  if (serial.length > MAX_SERIAL_BYTES) throw new DerError('CertID.serialNumber', `longer than ${MAX_SERIAL_BYTES} bytes`, serialTlv.start);
  return { hash, issuerNameHash, issuerKeyHash, serial };
}

function hashOctets(r: DerReader, hash: HashName, field: string): Uint8Array {
  const tlv = r.next(field, TAG.OCTET_STRING);
  const v = r.octets(tlv, field);
  if (v.length !== HASH_LENGTH[hash]) throw new DerError(field, `${v.length} bytes, not a ${hash} hash (${HASH_LENGTH[hash]})`, tlv.start);
  return v;
}

/**
 * Extensions: a SEQUENCE OF Extension; returns whether one is a nonce (a critical one we do not
 * know is still answered: the staple is the same). Their OIDs are checked, never made into text.
 */
function readExtensions(outer: DerReader, field: string): boolean {
  return outer.nested(TAG.SEQUENCE, field, (list) => {
    let count = 0;
    let nonce = false;
    while (!list.atEnd()) {
      if (count++ >= REQUEST_CAPS.extensions) throw new DerError(field, `more than ${REQUEST_CAPS.extensions} extensions`, list.offset);
      list.nested(TAG.SEQUENCE, `${field}.Extension`, (ext) => {
        if (bytesEqual(ext.oidContents(ext.next(`${field}.extnID`, TAG.OID), `${field}.extnID`), NONCE_OID)) nonce = true;
        const critical = ext.optional(TAG.BOOLEAN, `${field}.critical`);
        if (critical) ext.boolean(critical, `${field}.critical`);
        ext.octets(ext.next(`${field}.extnValue`, TAG.OCTET_STRING), `${field}.extnValue`);
      });
    }
    return nonce;
  });
}
