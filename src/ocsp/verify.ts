// Verifying an OCSP response for one certificate, at a given time. Pure: `now` is a parameter.
// The verdict is acceptable (good or revoked, with its validity window) or rejected with a
// stable reason code that an operator can act on.

import type { Certificate } from './certificate.ts';
import { DerBudget, DerError, DerReader, TAG } from './der.ts';
import { InputError } from './errors.ts';
import { OID } from './oids.ts';
import {
  MAX_RESPONSE_BYTES_LIMIT,
  parseResponse,
  type BasicResponse,
  type CertStatus,
  type Extension,
  type OcspResponse,
  type SingleResponse,
} from './response.ts';
import { findSigner, type SignatureJob } from './response-signer.ts';
import { checkSignature, checkSignatureAsync, type HashName, type SignatureCheck } from './signature.ts';
import { bytesEqual, serialHex } from './bytes.ts';

/** How strict verifyResponse is: clock skew, lifetime without nextUpdate, size cap, SHA-1. */
export interface VerifySettings {
  /** How far thisUpdate may lie in the future (clock skew between us and the responder). */
  readonly skewMs: number;
  /** A response without nextUpdate is accepted for this long after its thisUpdate. */
  readonly maxAgeWithoutNextUpdateMs: number;
  readonly maxResponseBytes: number;
  /** SHA-1 signatures are refused unless this is set. */
  readonly allowSha1Signatures: boolean;
  /** The nonce we sent, if any: the response must echo it. */
  readonly nonce?: Uint8Array | undefined;
}

/** The verification settings' defaults. */
export const DEFAULT_VERIFY_SETTINGS: VerifySettings = {
  skewMs: 5 * 60_000,
  maxAgeWithoutNextUpdateMs: 60 * 60_000,
  maxResponseBytes: 64 * 1024,
  allowSha1Signatures: false,
};

/** Every reason verifyResponse can reject a response for. */
export const REJECT_REASONS = [
  'too-large',
  'malformed',
  'malformed-request',
  'internal-error',
  'try-later',
  'sig-required',
  'unauthorized',
  'unsupported-response-type',
  'unknown-critical-extension',
  'signer-not-found',
  'unauthorized-signer',
  'unsupported-algorithm',
  'weak-algorithm',
  'bad-signature',
  'cert-id-mismatch',
  'status-unknown',
  'not-yet-valid',
  'expired',
  'stale',
  'nonce-mismatch',
] as const;
/** Why a response was rejected (one of REJECT_REASONS). */
export type RejectReason = (typeof REJECT_REASONS)[number];

/** Facts read from the response, present in every verdict that got far enough to read them. */
export interface ResponseFacts {
  readonly serial: string;
  readonly certStatus: CertStatus | null;
  readonly thisUpdate: number | null;
  readonly nextUpdate: number | null;
  readonly producedAt: number | null;
}

/** The verdict on a response that may be stapled, with its facts. */
export interface Acceptable extends ResponseFacts {
  readonly ok: true;
  readonly certStatus: 'good' | 'revoked';
  readonly thisUpdate: number;
  readonly producedAt: number;
  readonly revocationTime: number | null;
  readonly revocationReason: number | null;
  /** When this response stops being servable: nextUpdate, or thisUpdate + the no-nextUpdate lifetime. */
  readonly validUntil: number;
  readonly signer: 'issuer' | 'delegated';
  /** notAfter of the certificate that signed the response (the issuer or the delegated responder). */
  readonly signerNotAfter: number;
  /** The hash algorithms of the CertIDs that name the certificate: a client asking by another one cannot use this response. */
  readonly certIdHashes: readonly HashName[];
}

/** The verdict on a response that must not be stapled: the reason and a message. */
export interface Rejected extends ResponseFacts {
  readonly ok: false;
  readonly reason: RejectReason;
  readonly message: string;
}

/** verifyResponse's answer: Acceptable or Rejected. */
export type Verdict = Acceptable | Rejected;

const RESPONDER_STATUS_REASON = {
  malformedRequest: 'malformed-request',
  internalError: 'internal-error',
  tryLater: 'try-later',
  sigRequired: 'sig-required',
  unauthorized: 'unauthorized',
} as const satisfies Record<string, RejectReason>;

/** Response and single-response extensions we understand; an unknown critical one is a rejection. */
const UNDERSTOOD_EXTENSIONS = new Set<string>([
  OID.ocspNonce,
  OID.ocspExtendedRevoke,
  '1.3.6.1.5.5.7.48.1.3', // id-pkix-ocsp-crl
  '1.3.6.1.5.5.7.48.1.6', // id-pkix-ocsp-archive-cutoff
  '1.3.6.1.5.5.7.48.1.7', // id-pkix-ocsp-service-locator
  OID.crlReason,
]);

/** What verifyResponse checks a response against: the certificate, its issuer and the time. */
export interface VerifyInput {
  readonly certificate: Certificate;
  readonly issuer: Certificate;
  /** Epoch milliseconds at which every time check is made. */
  readonly now: number;
  readonly settings?: Partial<VerifySettings>;
}

/** The verification's steps: it yields each signature to check and is given the result. */
type Judgement = Generator<SignatureJob, Verdict, SignatureCheck>;

/**
 * Verify `der` as an OCSP response for `certificate`. Never throws for any response bytes: every
 * problem is a verdict. Throws InputError only for a settings value out of range.
 */
export function verifyResponse(der: Uint8Array, input: VerifyInput): Verdict {
  const steps = judge(der, input);
  let step = steps.next();
  while (!step.done) {
    const job = step.value;
    step = steps.next(checkSignature(job.alg, job.data, job.signature, job.key, job.allowSha1));
  }
  return step.value;
}

/**
 * verifyResponse with each signature checked on libuv's thread pool (node:crypto's callback
 * form): the same steps, so the same verdict for the same bytes, while the event loop stays
 * free. The bytes must not change until it settles.
 */
export async function verifyResponseAsync(der: Uint8Array, input: VerifyInput): Promise<Verdict> {
  const steps = judge(der, input);
  let step = steps.next();
  while (!step.done) {
    const job = step.value;
    step = steps.next(await checkSignatureAsync(job.alg, job.data, job.signature, job.key, job.allowSha1));
  }
  return step.value;
}

/** Every check of verifyResponse, in order; each signature is yielded to be checked by the driver. */
function* judge(der: Uint8Array, input: VerifyInput): Judgement {
  const settings = input.settings ? checkSettings({ ...DEFAULT_VERIFY_SETTINGS, ...input.settings }) : DEFAULT_VERIFY_SETTINGS;
  const facts: Mutable<ResponseFacts> = { serial: input.certificate.serialHex, certStatus: null, thisUpdate: null, nextUpdate: null, producedAt: null };
  // No closures on this path: verification runs for every fetched and every stored response.
  const reject = rejectWith.bind(null, facts);

  if (der.length > settings.maxResponseBytes) {
    return reject('too-large', `response is ${der.length} bytes, over the ${settings.maxResponseBytes}-byte limit`);
  }
  let parsed: OcspResponse;
  try {
    parsed = parseResponse(der);
  } catch (err) {
    if (err instanceof DerError) return reject('malformed', `malformed response: ${err.message}`);
    throw err;
  }
  if (parsed.status !== 'successful') {
    return reject(RESPONDER_STATUS_REASON[parsed.status], `responder answered "${parsed.status}" instead of a response`);
  }
  const basic = parsed.basic;
  if (!basic) return reject('unsupported-response-type', `response type ${parsed.responseType ?? '(none)'} is not id-pkix-ocsp-basic`);
  facts.producedAt = basic.producedAt;

  const single = findSingleResponse(basic, input.certificate, input.issuer);
  if (single) {
    facts.certStatus = single.status;
    facts.thisUpdate = single.thisUpdate;
    facts.nextUpdate = single.nextUpdate;
  }

  const critical = unknownCritical(basic.extensions) ?? (single ? unknownCritical(single.extensions) : undefined);
  if (critical) return reject('unknown-critical-extension', `response carries unknown critical extension ${critical}`);

  const signer = yield* findSigner(basic, input.issuer, input.now);
  if ('reason' in signer) return reject(signer.reason, signer.message);
  const key = signer.cert.tryPublicKey();
  if (!key) return reject('bad-signature', `the public key of "${signer.cert.subject}" cannot be loaded to check the response signature`);
  const sig = yield { alg: basic.signatureAlgorithm, data: basic.tbsResponseData, signature: basic.signature, key, allowSha1: settings.allowSha1Signatures };
  if (!sig.ok) return reject(sig.reason, `response signature: ${sig.detail}`);

  if (!single)
    return reject(
      'cert-id-mismatch',
      `no SingleResponse matches certificate serial ${facts.serial} and its issuer (response covers: ${coveredSerials(basic)})`,
    );
  if (single.status === 'unknown') return reject('status-unknown', 'responder does not know this certificate (status unknown)');

  if (single.nextUpdate !== null && single.nextUpdate < single.thisUpdate) {
    return reject('malformed', 'nextUpdate is before thisUpdate');
  }
  if (single.thisUpdate > input.now + settings.skewMs) {
    return reject('not-yet-valid', `thisUpdate ${iso(single.thisUpdate)} is in the future beyond the ${settings.skewMs / 1000}s skew allowance`);
  }
  const validUntil = single.nextUpdate ?? single.thisUpdate + settings.maxAgeWithoutNextUpdateMs;
  if (single.nextUpdate !== null && single.nextUpdate <= input.now) {
    return reject('expired', `nextUpdate ${iso(single.nextUpdate)} has passed`);
  }
  if (single.nextUpdate === null && validUntil <= input.now) {
    return reject('stale', `no nextUpdate, and thisUpdate ${iso(single.thisUpdate)} is older than ${settings.maxAgeWithoutNextUpdateMs / 1000}s`);
  }
  if (settings.nonce) {
    const problem = nonceProblem(basic.extensions, settings.nonce);
    if (problem) return reject('nonce-mismatch', problem);
  }
  return {
    ok: true,
    ...facts,
    certStatus: single.status,
    thisUpdate: single.thisUpdate,
    producedAt: basic.producedAt,
    revocationTime: single.revocationTime,
    revocationReason: single.revocationReason,
    validUntil,
    signer: signer.cert === input.issuer ? 'issuer' : 'delegated',
    signerNotAfter: signer.cert.notAfter,
    certIdHashes: basic.responses.flatMap((r) => (namesCertificate(r, input.certificate, input.issuer) ? [r.certId.hash!] : [])),
  };
}

function checkSettings(settings: VerifySettings): VerifySettings {
  const max = settings.maxResponseBytes;
  if (!Number.isSafeInteger(max) || max < 1 || max > MAX_RESPONSE_BYTES_LIMIT) {
    throw new InputError(
      'maxResponseBytes',
      `must be a whole number of bytes from 1 to ${MAX_RESPONSE_BYTES_LIMIT} (MAX_RESPONSE_BYTES_LIMIT), not ${String(max)}`,
    );
  }
  return settings;
}

/** The serials a response covers, for a message: the first few only (a response may carry hundreds). */
function coveredSerials(basic: BasicResponse): string {
  const shown = basic.responses.slice(0, 5).map((r) => serialHex(r.certId.serial));
  if (shown.length === 0) return 'nothing';
  const more = basic.responses.length - shown.length;
  return more > 0 ? `${shown.join(', ')} and ${more} more` : shown.join(', ');
}

function rejectWith(facts: ResponseFacts, reason: RejectReason, message: string): Rejected {
  return { ok: false, reason, message, ...facts };
}

/** The first SingleResponse whose full CertID (hash algorithm, name hash, key hash, serial) names our certificate. */
function findSingleResponse(basic: BasicResponse, cert: Certificate, issuer: Certificate): SingleResponse | undefined {
  if (!bytesEqual(cert.issuerName, issuer.subjectName)) return undefined;
  return basic.responses.find((r) => namesCertificate(r, cert, issuer));
}

/** Whether a SingleResponse's CertID names `cert` (issued by `issuer`), by any hash algorithm we know. */
function namesCertificate(r: SingleResponse, cert: Certificate, issuer: Certificate): boolean {
  const id = r.certId;
  return (
    id.hash !== undefined &&
    bytesEqual(cert.serial, id.serial) &&
    bytesEqual(issuer.keyHash(id.hash), id.issuerKeyHash) &&
    bytesEqual(issuer.subjectNameHash(id.hash), id.issuerNameHash)
  );
}

function unknownCritical(extensions: readonly Extension[]): string | undefined {
  for (const e of extensions) if (e.critical && !UNDERSTOOD_EXTENSIONS.has(e.oid)) return e.oid;
  return undefined;
}

function nonceProblem(extensions: readonly Extension[], sent: Uint8Array): string | undefined {
  const ext = extensions.find((e) => e.oid === OID.ocspNonce);
  if (!ext) return 'we sent a nonce, and the response does not echo one';
  // The nonce is an OCTET STRING inside extnValue; some responders put the raw bytes there.
  let echoed: Uint8Array = ext.value;
  try {
    const { reader, tlv } = DerReader.whole(ext.value, 'nonce', DerBudget.forInput(ext.value.length));
    if (tlv.tag === TAG.OCTET_STRING) echoed = reader.octets(tlv, 'nonce');
  } catch {
    // Not DER: compare the raw value.
  }
  return bytesEqual(echoed, sent) ? undefined : 'the response echoes a different nonce from the one we sent';
}

function iso(t: number): string {
  return new Date(t).toISOString();
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
