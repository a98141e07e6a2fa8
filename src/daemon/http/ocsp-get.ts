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
//
// Before a candidate is decoded at all, its DER header is read from its first characters, a
// constant amount of work: a candidate whose header is not a SEQUENCE, or declares a length that a
// suffix of its length cannot hold, is passed over undecoded. So `/%4D` x 2,000 (the header of
// "M/M/..." is not a SEQUENCE) no longer decodes 8 KiB; only a path built to declare its own
// length is decoded in full, once.

import { DerError } from '../../ocsp/der.ts';
import { parseRequest, REQUEST_CAPS, type ParsedRequest } from '../../ocsp/request-parse.ts';

export const GET_PATH_LIMITS = {
  /** Suffixes looked at per path (each '/' starts one): a prefix with more '/' than this is not a responder URL. */
  candidates: 32,
  /**
   * Path characters decoded (percent-decoding, base64 check, base64 decoding) per request, over
   * all candidates: the listener's header limit, so any path it lets through can be read in full
   * once (a real request is a few hundred characters, read twice at most: after a prefix that
   * declares a length it could hold, and alone). A candidate's header is read without counting:
   * at most HEAD_CHARS characters of each of the `candidates`.
   */
  decodedChars: 8 * 1024,
  /** Candidates parsed as DER (their header declares their length, and yet the parse failed). */
  parsed: 2,
} as const;

/** Every DER OCSPRequest starts with 0x30 (a SEQUENCE), which is 'M' in base64. */
const BASE64_REQUEST = /^M[A-Za-z0-9+/]*={0,2}$/;

/**
 * A request as the responder reads it: it answers one CertID per request (RFC 5019 §2.1.1: a
 * staple is signed for one certificate), so a list is refused at its second CertID, not read to
 * the parser's cap (16 SHA-512 CertIDs cost 3x a valid GET to read).
 */
export const parseForResponder = (der: Uint8Array): ParsedRequest => parseRequest(der, undefined, 1);

export type GetOutcome = { readonly ok: true; readonly request: ParsedRequest } | { readonly ok: false; readonly reason: string };

export function requestFromPath(path: string): GetOutcome {
  let reason = 'no base64 OCSP request in the path';
  let budget = GET_PATH_LIMITS.decodedChars;
  let tried = 0;
  let parsed = 0;
  for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) {
    if (tried++ === GET_PATH_LIMITS.candidates) return { ok: false, reason: `${reason} (only the first ${GET_PATH_LIMITS.candidates} '/' are looked at)` };
    const length = path.length - i - 1;
    // Longer than what is left of the budget: a shorter suffix may still fit.
    if (length > budget || !canHold(length, declaredLength(path, i + 1))) continue;
    budget -= length;
    const text = base64Of(path.slice(i + 1));
    if (text === null || !declaresItsLength(text) || text.length > budget) continue;
    budget -= text.length;
    try {
      return { ok: true, request: parseForResponder(Buffer.from(text, 'base64')) };
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
 * Whether a suffix of `length` path characters can be base64 of `declared` bytes: each base64
 * character is one path character, or three as an escape ("%4D"), and padding adds up to two.
 * Loose by a character or two; the exact check follows the decoding (declaresItsLength).
 */
function canHold(length: number, declared: number): boolean {
  if (declared < 0) return false;
  const fewest = Math.ceil((declared * 4) / 3);
  return length >= fewest && length <= 3 * (fewest + 3);
}

/** Whether the SEQUENCE header at the start of the base64 text declares the length the text decodes to (DER allows no trailing bytes). */
function declaresItsLength(text: string): boolean {
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  return declaredLength(text, 0) === Math.floor(((text.length - padding) * 3) / 4);
}

/** Base64 digit values by character code (-1: not base64). */
const DIGIT = new Int8Array(128).fill(-1);
for (const [v, c] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].entries()) DIGIT[c.charCodeAt(0)] = v;
const hexDigit = (code: number): number =>
  code >= 0x30 && code <= 0x39 ? code - 0x30 : code >= 0x41 && code <= 0x46 ? code - 0x37 : code >= 0x61 && code <= 0x66 ? code - 0x57 : -1;

/**
 * The DER length (header included) declared by the SEQUENCE header that the base64 text at
 * `start` (percent-encoded or not, a space as '+') begins with, or -1: not base64, not a
 * SEQUENCE, or longer than a request may be (its length then takes at most two octets). Reads at
 * most the 6 characters (or escapes) that hold the tag and three length octets; allocates nothing.
 */
function declaredLength(text: string, start: number): number {
  let acc = 0;
  let pending = 0;
  let bytes = 0;
  let length = 0;
  let lengthOctets = 0;
  for (let j = start; bytes < 4 && j < text.length;) {
    let code = text.charCodeAt(j);
    if (code === 0x25) {
      const hi = hexDigit(text.charCodeAt(j + 1));
      const lo = hexDigit(text.charCodeAt(j + 2));
      if (hi < 0 || lo < 0) return -1;
      code = hi * 16 + lo;
      if (code === 0x20) code = 0x2b;
      j += 3;
    } else j++;
    if (code === 0x3d) break; // '=': padding, the text ends here
    const digit = code < 0x80 ? DIGIT[code]! : -1;
    if (digit < 0) return -1;
    acc = (acc << 6) | digit;
    pending += 6;
    if (pending < 8) continue;
    pending -= 8;
    const octet = (acc >> pending) & 0xff;
    acc &= (1 << pending) - 1;
    if (bytes === 0 && octet !== 0x30) return -1;
    if (bytes === 1) {
      if (octet < 0x80) return 2 + octet;
      if (octet !== 0x81 && octet !== 0x82) return -1;
      lengthOctets = octet - 0x80;
    }
    if (bytes >= 2) {
      length = length * 256 + octet;
      if (bytes - 1 === lengthOctets) {
        const declared = 2 + lengthOctets + length;
        return declared > REQUEST_CAPS.maxBytes ? -1 : declared;
      }
    }
    bytes++;
  }
  return -1;
}
