// Decoding DER values whose rules are longer than a line: times and strings.

import { DerError, hex2, TAG, type Tlv } from './der-base.ts';

/** UTCTime or GeneralizedTime contents, as epoch milliseconds; DER form only (Z, seconds present). */
export function decodeTime(tlv: Tlv, v: Uint8Array, field: string): number {
  // Decoded from the bytes directly: this runs three times per response on the hot path.
  let year: number;
  let i: number;
  if (tlv.tag === TAG.UTC_TIME) {
    if (v.length !== 13) throw badTime(field, tlv, v, 'UTCTime');
    const yy = digits(v, 0, 2);
    year = yy < 0 ? -1 : yy >= 50 ? 1900 + yy : 2000 + yy;
    i = 2;
  } else if (tlv.tag === TAG.GENERALIZED_TIME) {
    if (v.length < 15) throw badTime(field, tlv, v, 'GeneralizedTime');
    year = digits(v, 0, 4);
    i = 4;
  } else {
    throw new DerError(field, `expected a time, found tag 0x${hex2(tlv.tag)}`, tlv.start);
  }
  const month = digits(v, i, 2);
  const day = digits(v, i + 2, 2);
  const hour = digits(v, i + 4, 2);
  const minute = digits(v, i + 6, 2);
  const second = digits(v, i + 8, 2);
  let ms = 0;
  let end = i + 10;
  if (tlv.tag === TAG.GENERALIZED_TIME && v[end] === 0x2e) {
    // DER fractions: at least one digit, no trailing zero.
    const fracStart = ++end;
    while (end < v.length && v[end]! >= 0x30 && v[end]! <= 0x39) end++;
    if (end === fracStart || v[end - 1] === 0x30) throw badTime(field, tlv, v, 'GeneralizedTime');
    ms = Math.floor(Number(`0.${asciiOf(v.subarray(fracStart, end))}`) * 1000);
  }
  if (end !== v.length - 1 || v[end] !== 0x5a /* Z */ || (year | month | day | hour | minute | second) < 0) {
    throw badTime(field, tlv, v, tlv.tag === TAG.UTC_TIME ? 'UTCTime' : 'GeneralizedTime');
  }
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) {
    throw new DerError(field, 'time out of range', tlv.start);
  }
  return Date.UTC(year, month - 1, day, hour, minute, second, ms);
}

/**
 * A directory-string-like value as text (for display). Each string type's encoding is checked as
 * OpenSSL checks it: UTF-8 must be valid, a BMPString whole 2-byte units, a UniversalString whole
 * 4-byte code points. Other string types are shown byte for byte.
 */
export function decodeString(tlv: Tlv, v: Uint8Array, field: string): string {
  switch (tlv.tag) {
    case TAG.UTF8_STRING:
      try {
        return STRICT_UTF8.decode(v);
      } catch {
        throw new DerError(field, 'UTF8String is not valid UTF-8', tlv.start);
      }
    case TAG.BMP_STRING: {
      checkWidth(tlv, v, field);
      let s = '';
      for (let i = 0; i < v.length; i += 2) s += String.fromCharCode((v[i]! << 8) | v[i + 1]!);
      return s;
    }
    case TAG.UNIVERSAL_STRING: {
      checkWidth(tlv, v, field);
      let s = '';
      for (let i = 0; i < v.length; i += 4) s += String.fromCodePoint(((v[i]! << 24) | (v[i + 1]! << 16) | (v[i + 2]! << 8) | v[i + 3]!) >>> 0);
      return s;
    }
    default:
      return Buffer.from(v).toString('latin1');
  }
}

/** A Name's attribute value must be a string type (as OpenSSL's X509_NAME_ENTRY requires). */
export function checkNameValueTag(tlv: Tlv, field: string): void {
  if (!NAME_STRING_TAGS.has(tlv.tag)) throw new DerError(field, `a name's value must be a string type, found tag 0x${hex2(tlv.tag)}`, tlv.start);
}

/** Check a string's encoding as decodeString does, without building its text. */
export function checkStringEncoding(tlv: Tlv, v: Uint8Array, field: string): void {
  if (tlv.tag === TAG.BMP_STRING || tlv.tag === TAG.UNIVERSAL_STRING) checkWidth(tlv, v, field);
  else if (tlv.tag === TAG.UTF8_STRING && !isUtf8(v)) throw new DerError(field, 'UTF8String is not valid UTF-8', tlv.start);
}

// UTF8, Numeric, Printable, T61, Videotex, IA5, Graphic, Visible, General, Universal, BMP.
const NAME_STRING_TAGS = new Set([0x0c, 0x12, 0x13, 0x14, 0x15, 0x16, 0x19, 0x1a, 0x1b, 0x1c, 0x1e]);

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function isUtf8(v: Uint8Array): boolean {
  try {
    STRICT_UTF8.decode(v);
    return true;
  } catch {
    return false;
  }
}

/** BMPString: whole 2-byte units. UniversalString: whole 4-byte code points, none past U+10FFFF. */
function checkWidth(tlv: Tlv, v: Uint8Array, field: string): void {
  if (tlv.tag === TAG.BMP_STRING) {
    if (v.length % 2 !== 0) throw new DerError(field, `BMPString is the wrong length (${v.length} bytes, not a multiple of 2)`, tlv.start);
    return;
  }
  if (v.length % 4 !== 0) throw new DerError(field, `UniversalString is the wrong length (${v.length} bytes, not a multiple of 4)`, tlv.start);
  for (let i = 0; i < v.length; i += 4) {
    const cp = ((v[i]! << 24) | (v[i + 1]! << 16) | (v[i + 2]! << 8) | v[i + 3]!) >>> 0;
    if (cp > 0x10ffff) throw new DerError(field, `UniversalString holds an invalid code point 0x${cp.toString(16)}`, tlv.start);
  }
}

/** The decimal number in v[at, at+n), or -1 if any byte is not a digit. */
function digits(v: Uint8Array, at: number, n: number): number {
  let x = 0;
  for (let k = at; k < at + n; k++) {
    const d = (v[k] ?? 0) - 0x30;
    if (d < 0 || d > 9) return -1;
    x = x * 10 + d;
  }
  return x;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function badTime(field: string, tlv: Tlv, v: Uint8Array, kind: string): DerError {
  return new DerError(field, `bad ${kind} "${printable(asciiOf(v))}"`, tlv.start);
}

function asciiOf(v: Uint8Array): string {
  return Buffer.from(v).toString('latin1');
}

function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?').slice(0, 40);
}
