// The OCSP request in a GET path (RFC 6960 appendix A.1): base64 of the DER, URL-encoded, after
// any path prefix. Real clients differ: some do not percent-encode, some turn '+' into a space
// on the way, some double the '/', and base64 itself contains '/'. So every suffix that starts
// after a '/' is a candidate, longest first, and the first one that is a well-formed request wins.
//
// The search is bounded, so that a hostile path costs about what a valid one does: every suffix
// looked at counts as a candidate, the characters decoded over all candidates are budgeted, and
// only a candidate whose DER header declares its own length is parsed (a failed parse throws,
// which costs more than decoding). Without these, `/%41` x 2,000 percent-decoded 2,000 suffixes
// in full (quadratic: 13 ms a request), and `/M` x 4,000 parsed and threw 32 times.

import { DerError } from '../../ocsp/der.ts';
import { parseRequest, type ParsedRequest } from '../../ocsp/request-parse.ts';

export const GET_PATH_LIMITS = {
  /** Suffixes looked at per path (each '/' starts one): a prefix with more '/' than this is not a responder URL. */
  candidates: 32,
  /**
   * Path characters decoded (percent-decoding, base64 check, base64 decoding) per request, over
   * all candidates: the listener's header limit, so any path it lets through can be read in full
   * once (a real request is a few hundred characters, read twice at most: after a prefix that
   * looks like base64, and alone).
   */
  decodedChars: 8 * 1024,
  /** Candidates parsed as DER (their header declares their length, and yet the parse failed). */
  parsed: 2,
} as const;

/** Every DER OCSPRequest starts with 0x30 (a SEQUENCE), which is 'M' in base64. */
const BASE64_REQUEST = /^M[A-Za-z0-9+/]*={0,2}$/;

export type GetOutcome = { readonly ok: true; readonly request: ParsedRequest } | { readonly ok: false; readonly reason: string };

export function requestFromPath(path: string): GetOutcome {
  let reason = 'no base64 OCSP request in the path';
  let budget = GET_PATH_LIMITS.decodedChars;
  let tried = 0;
  let parsed = 0;
  for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) {
    if (tried++ === GET_PATH_LIMITS.candidates) return { ok: false, reason: `${reason} (only the first ${GET_PATH_LIMITS.candidates} '/' are looked at)` };
    // Base64 of a SEQUENCE starts with 'M' (or its escape, "%4D").
    if (path[i + 1] !== 'M' && path.slice(i + 1, i + 4).toUpperCase() !== '%4D') continue;
    // Longer than what is left of the budget: a shorter suffix may still fit.
    const length = path.length - i - 1;
    if (length > budget) continue;
    budget -= length;
    const text = base64Of(path.slice(i + 1));
    if (text === null || !declaresItsLength(text) || text.length > budget) continue;
    budget -= text.length;
    try {
      return { ok: true, request: parseRequest(Buffer.from(text, 'base64')) };
    } catch (err) {
      if (!(err instanceof DerError)) throw err;
      reason = err.message;
    }
    if (++parsed === GET_PATH_LIMITS.parsed) return { ok: false, reason };
  }
  return { ok: false, reason };
}

/** The base64 text a path suffix holds, percent-decoded with spaces turned back into '+', or null. */
function base64Of(suffix: string): string | null {
  let text = suffix;
  if (suffix.includes('%')) {
    try {
      text = decodeURIComponent(suffix).replaceAll(' ', '+');
    } catch {
      return null;
    }
  }
  return BASE64_REQUEST.test(text) ? text : null;
}

/**
 * Whether the SEQUENCE header at the start of the base64 text declares the length the text
 * decodes to. DER allows no trailing bytes, so a candidate that fails this cannot parse; the check
 * decodes 8 characters. A request is at most 10 KiB: its length takes at most two octets.
 */
function declaresItsLength(text: string): boolean {
  const head = Buffer.from(text.slice(0, 8), 'base64');
  if (head.length < 2 || head[0] !== 0x30) return false;
  const l = head[1]!;
  const declared = l < 0x80 ? 2 + l : l === 0x81 && head.length >= 3 ? 3 + head[2]! : l === 0x82 && head.length >= 4 ? 4 + ((head[2]! << 8) | head[3]!) : -1;
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  return declared === Math.floor(((text.length - padding) * 3) / 4);
}
