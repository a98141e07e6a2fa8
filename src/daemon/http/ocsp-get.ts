// The OCSP request in a GET path (RFC 6960 appendix A.1): base64 of the DER, URL-encoded, after
// any path prefix. Real clients differ: some do not percent-encode, some turn '+' into a space
// on the way, some double the '/', and base64 itself contains '/'. So every suffix that starts
// after a '/' is a candidate, longest first, and the first one that is a well-formed request wins.

import { DerError } from '../../ocsp/der.ts';
import { parseRequest, type ParsedRequest } from '../../ocsp/request-parse.ts';

/** Candidates tried per path: a prefix with more '/' than this is not a responder URL. */
const MAX_CANDIDATES = 32;
/** Every DER OCSPRequest starts with 0x30 (a SEQUENCE), which is 'M' in base64. */
const BASE64_REQUEST = /^M[A-Za-z0-9+/]*={0,2}$/;

export type GetOutcome = { readonly ok: true; readonly request: ParsedRequest } | { readonly ok: false; readonly reason: string };

export function requestFromPath(path: string): GetOutcome {
  let reason = 'no base64 OCSP request in the path';
  let tried = 0;
  for (let i = path.indexOf('/'); i >= 0 && tried < MAX_CANDIDATES; i = path.indexOf('/', i + 1)) {
    const text = base64Of(path.slice(i + 1));
    if (text === null) continue;
    tried++;
    try {
      return { ok: true, request: parseRequest(Buffer.from(text, 'base64')) };
    } catch (err) {
      if (!(err instanceof DerError)) throw err;
      reason = err.message;
    }
  }
  return { ok: false, reason };
}

/** The base64 text a path suffix holds, percent-decoded with spaces turned back into '+', or null. */
function base64Of(suffix: string): string | null {
  if (suffix === '' || (suffix[0] !== 'M' && suffix[0] !== '%')) return null;
  let text: string;
  try {
    text = decodeURIComponent(suffix);
  } catch {
    return null;
  }
  text = text.replaceAll(' ', '+');
  return BASE64_REQUEST.test(text) ? text : null;
}
