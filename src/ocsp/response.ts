// Parsing OCSP responses (RFC 6960 §4.2). Pure and strict; the signed bytes are kept exactly
// as received, because a signature is only meaningful over the bytes that were signed.

import { plainView } from './bytes.ts';
import { DerBudget, DerError, DerReader, TAG, ctx, ctxPrim } from './der.ts';
import { readHashAlgorithm, readSignatureAlgorithm, type HashName, type SignatureAlgorithm } from './signature.ts';

export const RESPONSE_STATUSES = ['successful', 'malformedRequest', 'internalError', 'tryLater', undefined, 'sigRequired', 'unauthorized'] as const;
export type ResponseStatus = Exclude<(typeof RESPONSE_STATUSES)[number], undefined>;

export type CertStatus = 'good' | 'revoked' | 'unknown';

export interface Extension {
  readonly oid: string;
  readonly critical: boolean;
  readonly value: Uint8Array;
}

export interface ResponseCertId {
  readonly hashOid: string;
  /** Undefined when the hash algorithm is not one we support: such a CertID never matches. */
  readonly hash: HashName | undefined;
  readonly issuerNameHash: Uint8Array;
  readonly issuerKeyHash: Uint8Array;
  readonly serial: Uint8Array;
}

export interface SingleResponse {
  readonly certId: ResponseCertId;
  readonly status: CertStatus;
  readonly revocationTime: number | null;
  /** CRLReason code (RFC 5280 §5.3.1), when the responder gave one. */
  readonly revocationReason: number | null;
  readonly thisUpdate: number;
  readonly nextUpdate: number | null;
  readonly extensions: readonly Extension[];
}

export type ResponderId = { readonly byName: Uint8Array; readonly byKey?: undefined } | { readonly byKey: Uint8Array; readonly byName?: undefined };

export interface BasicResponse {
  /** The exact DER of tbsResponseData: the bytes the signature covers. */
  readonly tbsResponseData: Uint8Array;
  readonly responderId: ResponderId;
  readonly producedAt: number;
  readonly responses: readonly SingleResponse[];
  readonly extensions: readonly Extension[];
  readonly signatureAlgorithm: SignatureAlgorithm;
  readonly signature: Uint8Array;
  /** Embedded certificates, as DER; parsed on demand (most responses are verified from a cache). */
  readonly certs: readonly Uint8Array[];
}

export interface OcspResponse {
  readonly status: ResponseStatus;
  readonly responseType: string | null;
  readonly basic: BasicResponse | null;
}

/**
 * Parse a DER OCSPResponse. Throws DerError, naming the field, on anything malformed.
 * The work budget (default: linear in the input) bounds what hostile bytes can cost.
 */
export function parseResponse(input: Uint8Array, budget: DerBudget = DerBudget.forInput(input.length)): OcspResponse {
  const der = plainView(input);
  const { reader, tlv } = DerReader.whole(der, 'OCSPResponse', budget);
  if (tlv.tag !== TAG.SEQUENCE) throw new DerError('OCSPResponse', 'expected a SEQUENCE', 0);
  const top = reader.enter(tlv, 'OCSPResponse');
  const statusTlv = top.next('responseStatus', TAG.ENUMERATED);
  const code = top.smallUint(statusTlv, 'responseStatus');
  const status = RESPONSE_STATUSES[code];
  if (status === undefined) throw new DerError('responseStatus', `unknown response status ${code}`, statusTlv.start);
  const bytesTlv = top.optional(ctx(0), 'responseBytes');
  top.finish('OCSPResponse');
  if (status !== 'successful') return { status, responseType: null, basic: null };
  if (!bytesTlv) throw new DerError('responseBytes', 'a successful response must carry responseBytes', der.length);

  const explicit = top.enter(bytesTlv, 'responseBytes');
  const rb = explicit.sequence('responseBytes');
  explicit.finish('responseBytes');
  const responseType = rb.oid(rb.next('responseBytes.responseType', TAG.OID), 'responseBytes.responseType');
  const inner = rb.octets(rb.next('responseBytes.response', TAG.OCTET_STRING), 'responseBytes.response');
  rb.finish('responseBytes');
  if (responseType !== '1.3.6.1.5.5.7.48.1.1') return { status, responseType, basic: null };
  return { status, responseType, basic: parseBasic(inner, budget) };
}

function parseBasic(der: Uint8Array, budget: DerBudget): BasicResponse {
  const { reader, tlv } = DerReader.whole(der, 'BasicOCSPResponse', budget);
  if (tlv.tag !== TAG.SEQUENCE) throw new DerError('BasicOCSPResponse', 'expected a SEQUENCE', 0);
  const basic = reader.enter(tlv, 'BasicOCSPResponse');
  const tbsTlv = basic.next('tbsResponseData', TAG.SEQUENCE);
  const signatureAlgorithm = readSignatureAlgorithm(basic, 'signatureAlgorithm');
  const signature = basic.bitStringBytes(basic.next('signature', TAG.BIT_STRING), 'signature');
  const certs: Uint8Array[] = [];
  const certsTlv = basic.optional(ctx(0), 'certs');
  if (certsTlv) {
    const explicit = basic.enter(certsTlv, 'certs');
    const list = explicit.sequence('certs');
    explicit.finish('certs');
    while (!list.atEnd()) certs.push(list.raw(list.next(`certs[${certs.length}]`, TAG.SEQUENCE)));
  }
  basic.finish('BasicOCSPResponse');

  const tbs = basic.enter(tbsTlv, 'tbsResponseData');
  const versionTlv = tbs.optional(ctx(0), 'version');
  if (versionTlv) {
    const v = tbs.enter(versionTlv, 'version');
    const version = v.smallUint(v.next('version', TAG.INTEGER), 'version');
    v.finish('version');
    if (version !== 0) throw new DerError('version', `unknown response version ${version + 1}`, versionTlv.start);
  }
  const responderId = readResponderId(tbs);
  const producedAt = tbs.time(tbs.next('producedAt', TAG.GENERALIZED_TIME), 'producedAt');
  const list = tbs.sequence('responses');
  const responses: SingleResponse[] = [];
  while (!list.atEnd()) responses.push(readSingleResponse(list, `responses[${responses.length}]`));
  const extTlv = tbs.optional(ctx(1), 'responseExtensions');
  const extensions = extTlv ? readExtensions(tbs.enter(extTlv, 'responseExtensions'), 'responseExtensions') : [];
  tbs.finish('tbsResponseData');
  return { tbsResponseData: basic.raw(tbsTlv), responderId, producedAt, responses, extensions, signatureAlgorithm, signature, certs };
}

function readResponderId(r: DerReader): ResponderId {
  const tlv = r.next('responderID');
  if (tlv.tag === ctx(1)) {
    const inner = r.enter(tlv, 'responderID.byName');
    const name = inner.next('responderID.byName', TAG.SEQUENCE);
    inner.finish('responderID.byName');
    return { byName: inner.raw(name) };
  }
  if (tlv.tag === ctx(2)) {
    const inner = r.enter(tlv, 'responderID.byKey');
    const key = inner.octets(inner.next('responderID.byKey', TAG.OCTET_STRING), 'responderID.byKey');
    inner.finish('responderID.byKey');
    return { byKey: key };
  }
  throw new DerError('responderID', 'expected byName [1] or byKey [2]', tlv.start);
}

function readSingleResponse(list: DerReader, field: string): SingleResponse {
  const r = list.sequence(field);
  const idReader = r.sequence(`${field}.certID`);
  const { hash, oid: hashOid } = readHashAlgorithm(idReader, `${field}.certID.hashAlgorithm`);
  const issuerNameHash = idReader.octets(idReader.next(`${field}.certID.issuerNameHash`, TAG.OCTET_STRING), `${field}.certID.issuerNameHash`);
  const issuerKeyHash = idReader.octets(idReader.next(`${field}.certID.issuerKeyHash`, TAG.OCTET_STRING), `${field}.certID.issuerKeyHash`);
  const serial = idReader.integerBytes(idReader.next(`${field}.certID.serialNumber`, TAG.INTEGER), `${field}.certID.serialNumber`);
  idReader.finish(`${field}.certID`);

  const statusTlv = r.next(`${field}.certStatus`);
  let status: CertStatus;
  let revocationTime: number | null = null;
  let revocationReason: number | null = null;
  if (statusTlv.tag === ctxPrim(0)) {
    r.null(statusTlv, `${field}.certStatus.good`);
    status = 'good';
  } else if (statusTlv.tag === ctx(1)) {
    status = 'revoked';
    const info = r.enter(statusTlv, `${field}.certStatus.revoked`);
    revocationTime = info.time(info.next(`${field}.revocationTime`, TAG.GENERALIZED_TIME), `${field}.revocationTime`);
    const reasonTlv = info.optional(ctx(0), `${field}.revocationReason`);
    if (reasonTlv) {
      const inner = info.enter(reasonTlv, `${field}.revocationReason`);
      revocationReason = inner.smallUint(inner.next(`${field}.revocationReason`, TAG.ENUMERATED), `${field}.revocationReason`);
      inner.finish(`${field}.revocationReason`);
    }
    info.finish(`${field}.certStatus.revoked`);
  } else if (statusTlv.tag === ctxPrim(2)) {
    // UnknownInfo ::= NULL, IMPLICIT-tagged.
    r.null(statusTlv, `${field}.certStatus.unknown`);
    status = 'unknown';
  } else {
    throw new DerError(`${field}.certStatus`, 'expected good [0], revoked [1] or unknown [2]', statusTlv.start);
  }
  const thisUpdate = r.time(r.next(`${field}.thisUpdate`, TAG.GENERALIZED_TIME), `${field}.thisUpdate`);
  let nextUpdate: number | null = null;
  const nextTlv = r.optional(ctx(0), `${field}.nextUpdate`);
  if (nextTlv) {
    const inner = r.enter(nextTlv, `${field}.nextUpdate`);
    nextUpdate = inner.time(inner.next(`${field}.nextUpdate`, TAG.GENERALIZED_TIME), `${field}.nextUpdate`);
    inner.finish(`${field}.nextUpdate`);
  }
  const extTlv = r.optional(ctx(1), `${field}.singleExtensions`);
  const extensions = extTlv ? readExtensions(r.enter(extTlv, `${field}.singleExtensions`), `${field}.singleExtensions`) : [];
  r.finish(field);
  return { certId: { hashOid, hash, issuerNameHash, issuerKeyHash, serial }, status, revocationTime, revocationReason, thisUpdate, nextUpdate, extensions };
}

function readExtensions(explicit: DerReader, field: string): Extension[] {
  const list = explicit.sequence(field);
  explicit.finish(field);
  const out: Extension[] = [];
  while (!list.atEnd()) {
    const f = `${field}[${out.length}]`;
    const ext = list.sequence(f);
    const oid = ext.oid(ext.next(`${f}.extnID`, TAG.OID), `${f}.extnID`);
    const criticalTlv = ext.optional(TAG.BOOLEAN, `${f}.critical`);
    const critical = criticalTlv ? ext.boolean(criticalTlv, `${f}.critical`) : false;
    const value = ext.octets(ext.next(`${f}.extnValue`, TAG.OCTET_STRING), `${f}.extnValue`);
    ext.finish(f);
    if (out.some((e) => e.oid === oid)) throw new DerError(f, `duplicate extension ${oid}`, 0);
    out.push({ oid, critical, value });
  }
  return out;
}
