// Parsing OCSP responses (RFC 6960 §4.2). Pure and strict; the signed bytes are kept exactly
// as received, because a signature is only meaningful over the bytes that were signed.

import { plainView } from './bytes.ts';
import { DerBudget, DerError, DerReader, TAG, ctx, ctxPrim } from './der.ts';
import { readHashAlgorithm, readSignatureAlgorithm, type HashName, type SignatureAlgorithm } from './signature.ts';

export const RESPONSE_STATUSES = ['successful', 'malformedRequest', 'internalError', 'tryLater', undefined, 'sigRequired', 'unauthorized'] as const;
/** The OCSP response status (RFC 6960's OCSPResponseStatus). */
export type ResponseStatus = Exclude<(typeof RESPONSE_STATUSES)[number], undefined>;

/** A single response's verdict on a certificate: good, revoked (with when and why) or unknown. */
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

/** One certificate's entry in a basic response. */
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

/** The signed part of a successful OCSP response (RFC 6960 BasicOCSPResponse). */
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

/** A parsed OCSP response: its status and, when successful, the basic response. */
export interface OcspResponse {
  readonly status: ResponseStatus;
  readonly responseType: string | null;
  readonly basic: BasicResponse | null;
}

/** The largest response the core will read, whatever the settings (the engine and daemon cap their options with it). */
export const MAX_RESPONSE_BYTES_LIMIT = 1024 * 1024;

/**
 * Counts checked while parsing, before any signature work, so that a response within the size
 * limit cannot make verification slow. Real responders send one SingleResponse (a few for a
 * batch), up to three or four extensions and up to three certificates.
 */
export const RESPONSE_CAPS = {
  singleResponses: 256,
  /** In the whole response: response extensions and every SingleResponse's together. */
  extensions: 32,
  certs: 16,
} as const;

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
  const { responseType, inner } = explicit.nested(TAG.SEQUENCE, 'responseBytes', (rb) => ({
    responseType: rb.oid(rb.next('responseBytes.responseType', TAG.OID), 'responseBytes.responseType'),
    inner: rb.octets(rb.next('responseBytes.response', TAG.OCTET_STRING), 'responseBytes.response'),
  }));
  explicit.finish('responseBytes');
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
  basic.optionalNested(ctx(0), 'certs', (explicit) =>
    explicit.nested(TAG.SEQUENCE, 'certs', (list) => {
      while (!list.atEnd()) {
        if (certs.length === RESPONSE_CAPS.certs) throw new DerError('certs', `more than ${RESPONSE_CAPS.certs} embedded certificates`, list.offset);
        certs.push(list.raw(list.next(`certs[${certs.length}]`, TAG.SEQUENCE)));
      }
    }),
  );
  basic.finish('BasicOCSPResponse');

  const tbs = basic.enter(tbsTlv, 'tbsResponseData');
  const versionAt = tbs.offset;
  const version = tbs.optionalNested(ctx(0), 'version', (v) => v.smallUint(v.next('version', TAG.INTEGER), 'version')) ?? 0;
  if (version !== 0) throw new DerError('version', `unknown response version ${version + 1}`, versionAt);
  const responderId = readResponderId(tbs);
  const producedAt = tbs.time(tbs.next('producedAt', TAG.GENERALIZED_TIME), 'producedAt');
  const counter: ExtensionCounter = { count: 0 };
  const responses = tbs.nested(TAG.SEQUENCE, 'responses', (list) => {
    const out: SingleResponse[] = [];
    while (!list.atEnd()) {
      if (out.length === RESPONSE_CAPS.singleResponses) {
        throw new DerError('responses', `more than ${RESPONSE_CAPS.singleResponses} SingleResponses`, list.offset);
      }
      out.push(readSingleResponse(list, out.length, counter));
    }
    return out;
  });
  const extensions = tbs.optionalNested(ctx(1), 'responseExtensions', (r) => readExtensions(r, 'responseExtensions', counter)) ?? NO_EXTENSIONS;
  tbs.finish('tbsResponseData');
  return { tbsResponseData: basic.raw(tbsTlv), responderId, producedAt, responses, extensions, signatureAlgorithm, signature, certs };
}

const NO_EXTENSIONS: readonly Extension[] = Object.freeze([]);

function readResponderId(r: DerReader): ResponderId {
  const tag = r.peekTag();
  if (tag === ctx(1)) {
    return r.nested(tag, 'responderID.byName', (inner) => ({ byName: inner.raw(inner.next('responderID.byName', TAG.SEQUENCE)) }));
  }
  if (tag === ctx(2)) {
    return r.nested(tag, 'responderID.byKey', (inner) => ({ byKey: inner.octets(inner.next('responderID.byKey', TAG.OCTET_STRING), 'responderID.byKey') }));
  }
  const tlv = r.next('responderID');
  throw new DerError('responderID', 'expected byName [1] or byKey [2]', tlv.start);
}

/**
 * A DerError from inside element `prefix` names the full path. Field names are joined only when
 * something is thrown: building them for every SingleResponse and extension was most of the cost
 * of a response with hundreds of them.
 */
function prefixed(err: unknown, prefix: string): unknown {
  return err instanceof DerError ? new DerError(err.field ? `${prefix}.${err.field}` : prefix, err.detail, err.offset) : err;
}

function readSingleResponse(list: DerReader, index: number, counter: ExtensionCounter): SingleResponse {
  try {
    return list.nested(TAG.SEQUENCE, '', (r) => readSingleFields(r, counter));
  } catch (err) {
    throw prefixed(err, `responses[${index}]`);
  }
}

function readSingleFields(r: DerReader, counter: ExtensionCounter): SingleResponse {
  const certId = r.nested(TAG.SEQUENCE, 'certID', (id) => {
    const { hash, oid: hashOid } = readHashAlgorithm(id, 'certID.hashAlgorithm');
    const issuerNameHash = id.octets(id.next('certID.issuerNameHash', TAG.OCTET_STRING), 'certID.issuerNameHash');
    const issuerKeyHash = id.octets(id.next('certID.issuerKeyHash', TAG.OCTET_STRING), 'certID.issuerKeyHash');
    const serial = id.integerBytes(id.next('certID.serialNumber', TAG.INTEGER), 'certID.serialNumber');
    return { hashOid, hash, issuerNameHash, issuerKeyHash, serial };
  });

  let status: CertStatus;
  let revocationTime: number | null = null;
  let revocationReason: number | null = null;
  const statusTag = r.peekTag();
  if (statusTag === ctx(1)) {
    status = 'revoked';
    r.nested(statusTag, 'certStatus.revoked', (info) => {
      revocationTime = info.time(info.next('revocationTime', TAG.GENERALIZED_TIME), 'revocationTime');
      revocationReason =
        info.optionalNested(ctx(0), 'revocationReason', (inner) => inner.smallUint(inner.next('revocationReason', TAG.ENUMERATED), 'revocationReason')) ?? null;
    });
  } else {
    const statusTlv = r.next('certStatus');
    if (statusTlv.tag === ctxPrim(0)) {
      r.null(statusTlv, 'certStatus.good');
      status = 'good';
    } else if (statusTlv.tag === ctxPrim(2)) {
      // UnknownInfo ::= NULL, IMPLICIT-tagged.
      r.null(statusTlv, 'certStatus.unknown');
      status = 'unknown';
    } else {
      throw new DerError('certStatus', 'expected good [0], revoked [1] or unknown [2]', statusTlv.start);
    }
  }
  const thisUpdate = r.time(r.next('thisUpdate', TAG.GENERALIZED_TIME), 'thisUpdate');
  const nextUpdate = r.optionalNested(ctx(0), 'nextUpdate', (inner) => inner.time(inner.next('nextUpdate', TAG.GENERALIZED_TIME), 'nextUpdate')) ?? null;
  const extensions = r.optionalNested(ctx(1), 'singleExtensions', (inner) => readExtensions(inner, 'singleExtensions', counter)) ?? NO_EXTENSIONS;
  return { certId, status, revocationTime, revocationReason, thisUpdate, nextUpdate, extensions };
}

/** Extensions read so far in one response, against RESPONSE_CAPS.extensions. */
interface ExtensionCounter {
  count: number;
}

/**
 * Extensions, [n]-wrapped: no OID twice in one list (checked in linear time), and at most
 * RESPONSE_CAPS.extensions in the whole response, response and single extensions together.
 */
function readExtensions(explicit: DerReader, field: string, counter: ExtensionCounter): Extension[] {
  return explicit.nested(TAG.SEQUENCE, field, (list) => {
    const out: Extension[] = [];
    const seen = new Set<string>();
    while (!list.atEnd()) {
      if (++counter.count > RESPONSE_CAPS.extensions)
        throw new DerError(field, `more than ${RESPONSE_CAPS.extensions} extensions in the response`, list.offset);
      try {
        out.push(list.nested(TAG.SEQUENCE, '', (ext) => readExtension(ext, seen)));
      } catch (err) {
        throw prefixed(err, `${field}[${out.length}]`);
      }
    }
    return out;
  });
}

function readExtension(ext: DerReader, seen: Set<string>): Extension {
  const at = ext.offset;
  const oidTlv = ext.next('extnID', TAG.OID);
  const oid = ext.oid(oidTlv, 'extnID');
  // The duplicate check hashes the OID's text: charged to the work budget like its decode.
  ext.budget.spend(oidTlv.end - oidTlv.contentStart, 'extnID', at);
  if (seen.has(oid)) throw new DerError('extnID', `duplicate extension ${oid}`, at);
  seen.add(oid);
  const criticalTlv = ext.optional(TAG.BOOLEAN, 'critical');
  const critical = criticalTlv ? ext.boolean(criticalTlv, 'critical') : false;
  const value = ext.octets(ext.next('extnValue', TAG.OCTET_STRING), 'extnValue');
  return { oid, critical, value };
}
