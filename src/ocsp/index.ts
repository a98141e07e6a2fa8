// The protocol core: pure functions over bytes and times. No I/O, no clock reads.
export { Certificate, nameToString } from './certificate.ts';
export { DerError } from './der.ts';
export { InputError } from './errors.ts';
export { readCertificates, readChain, findIssuer, MAX_PEM_BYTES, type LoadedChain } from './pem.ts';
export { buildRequest, certIdFor, encodeCertId, getUrl, getUrlIfShort, GET_URL_LIMIT, NONCE_MAX_BYTES, type CertId } from './request.ts';
export { parseRequest, REQUEST_CAPS, type ParsedRequest } from './request-parse.ts';
export {
  parseResponse,
  MAX_RESPONSE_BYTES_LIMIT,
  RESPONSE_CAPS,
  type BasicResponse,
  type CertStatus,
  type OcspResponse,
  type ResponseStatus,
  type SingleResponse,
} from './response.ts';
export type { HashName, SignatureAlgorithm } from './signature.ts';
export {
  verifyResponse,
  verifyResponseAsync,
  DEFAULT_VERIFY_SETTINGS,
  REJECT_REASONS,
  type Acceptable,
  type Rejected,
  type RejectReason,
  type Verdict,
  type VerifyInput,
  type VerifySettings,
} from './verify.ts';
