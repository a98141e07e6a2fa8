// A small, strict DER reader for the handful of structures OCSP and X.509 need.
// Not a general ASN.1 library: the callers walk a known schema, and the reader enforces
// DER's rules (definite, minimal lengths; no trailing bytes; primitive/constructed forms)
// and hard limits on depth and work, so hostile input costs linear time at most.

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  T61_STRING: 0x14,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  UNIVERSAL_STRING: 0x1c,
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Context-specific tag [n], constructed (EXPLICIT or a constructed IMPLICIT type). */
export const ctx = (n: number): number => 0xa0 | n;
/** Context-specific tag [n], primitive (IMPLICIT over a primitive type). */
export const ctxPrim = (n: number): number => 0x80 | n;

const CONSTRUCTED = 0x20;
const MAX_DEPTH = 24;

/** Every DER problem is reported as this one error type, naming the field being read. */
export class DerError extends Error {
  override readonly name = 'DerError';
  constructor(
    readonly field: string,
    readonly detail: string,
    readonly offset: number,
  ) {
    super(`${field}: ${detail} (at byte ${offset})`);
  }
}

/** One element: its tag and where its header and contents lie in the input. */
export interface Tlv {
  readonly tag: number;
  readonly start: number;
  readonly contentStart: number;
  readonly end: number;
}

/** Shared work counter: every header read and every content byte decoded costs one step. */
export class DerBudget {
  steps = 0;
  constructor(readonly maxSteps: number) {}
  static forInput(length: number): DerBudget {
    // A linear bound with slack: a well-formed walk costs about one step per byte.
    return new DerBudget(4 * length + 256);
  }
  spend(n: number, field: string, offset: number): void {
    this.steps += n;
    if (this.steps > this.maxSteps) throw new DerError(field, 'parse work limit exceeded', offset);
  }
}

export class DerReader {
  private pos: number;

  private constructor(
    readonly bytes: Uint8Array,
    start: number,
    readonly end: number,
    readonly depth: number,
    readonly budget: DerBudget,
  ) {
    this.pos = start;
  }

  /** A reader over a whole buffer, which must hold exactly one element. */
  static whole(bytes: Uint8Array, field: string, budget = DerBudget.forInput(bytes.length)): { reader: DerReader; tlv: Tlv } {
    const reader = new DerReader(bytes, 0, bytes.length, 0, budget);
    if (bytes.length === 0) throw new DerError(field, 'empty input', 0);
    const tlv = reader.next(field);
    reader.finish(field);
    return { reader, tlv };
  }

  /** Where the next element starts, as an offset into `bytes`. */
  get offset(): number {
    return this.pos;
  }

  atEnd(): boolean {
    return this.pos >= this.end;
  }

  peekTag(): number | undefined {
    return this.pos < this.end ? this.bytes[this.pos] : undefined;
  }

  /** Read the next element's header; the reader moves past the whole element. */
  next(field: string, expectedTag?: number): Tlv {
    const b = this.bytes;
    const start = this.pos;
    if (start >= this.end) throw new DerError(field, 'missing element', start);
    this.budget.spend(1, field, start);
    const tag = b[start]!;
    if ((tag & 0x1f) === 0x1f) throw new DerError(field, 'high tag numbers are not supported', start);
    if (expectedTag !== undefined && tag !== expectedTag) {
      throw new DerError(field, `expected tag 0x${hex2(expectedTag)}, found 0x${hex2(tag)}`, start);
    }
    if (start + 1 >= this.end) throw new DerError(field, 'truncated length', start);
    const first = b[start + 1]!;
    let length: number;
    let contentStart: number;
    if (first < 0x80) {
      length = first;
      contentStart = start + 2;
    } else if (first === 0x80) {
      throw new DerError(field, 'indefinite length is not DER', start);
    } else {
      const n = first & 0x7f;
      if (n > 4) throw new DerError(field, 'length too large', start);
      if (start + 2 + n > this.end) throw new DerError(field, 'truncated length', start);
      if (b[start + 2] === 0) throw new DerError(field, 'non-minimal length', start);
      length = 0;
      for (let i = 0; i < n; i++) length = length * 256 + b[start + 2 + i]!;
      if (length < 0x80) throw new DerError(field, 'non-minimal length', start);
      contentStart = start + 2 + n;
    }
    const end = contentStart + length;
    if (end > this.end) throw new DerError(field, `length ${length} runs past the end of its container`, start);
    this.pos = end;
    return { tag, start, contentStart, end };
  }

  /** Read the next element only if it carries `tag` (for OPTIONAL and DEFAULT fields). */
  optional(tag: number, field: string): Tlv | undefined {
    return this.peekTag() === tag ? this.next(field, tag) : undefined;
  }

  /** A reader over a constructed element's contents. */
  enter(tlv: Tlv, field: string): DerReader {
    if ((tlv.tag & CONSTRUCTED) === 0) throw new DerError(field, 'expected a constructed element', tlv.start);
    if (this.depth + 1 > MAX_DEPTH) throw new DerError(field, 'nesting too deep', tlv.start);
    return new DerReader(this.bytes, tlv.contentStart, tlv.end, this.depth + 1, this.budget);
  }

  /**
   * A reader over a primitive element's contents that hold DER of their own (an extension's
   * OCTET STRING): offsets stay those of the whole input, and the work budget is shared.
   */
  enterOctets(tlv: Tlv, field: string): DerReader {
    this.primitive(tlv, field);
    if (this.depth + 1 > MAX_DEPTH) throw new DerError(field, 'nesting too deep', tlv.start);
    return new DerReader(this.bytes, tlv.contentStart, tlv.end, this.depth + 1, this.budget);
  }

  /** Read a SEQUENCE (or other constructed tag) and return a reader over its contents. */
  sequence(field: string, tag: number = TAG.SEQUENCE): DerReader {
    return this.enter(this.next(field, tag), field);
  }

  /**
   * Read the next element (which must carry `tag`), run `fn` over its contents, and check that
   * `fn` consumed them all: trailing bytes inside any wrapper are refused (as rustls-webpki does).
   */
  nested<T>(tag: number, field: string, fn: (inner: DerReader, tlv: Tlv) => T): T {
    const tlv = this.next(field, tag);
    const inner = this.enter(tlv, field);
    const out = fn(inner, tlv);
    inner.finish(field);
    return out;
  }

  /** `nested` for an OPTIONAL or DEFAULT element: undefined when the next tag is not `tag`. */
  optionalNested<T>(tag: number, field: string, fn: (inner: DerReader, tlv: Tlv) => T): T | undefined {
    return this.peekTag() === tag ? this.nested(tag, field, fn) : undefined;
  }

  /** Everything in this container must have been read. */
  finish(field: string): void {
    if (this.pos !== this.end) throw new DerError(field, `${this.end - this.pos} unexpected trailing bytes`, this.pos);
  }

  // ---- value decoders: each checks the element's form and DER's encoding rules ----

  contents(tlv: Tlv): Uint8Array {
    return this.bytes.subarray(tlv.contentStart, tlv.end);
  }

  raw(tlv: Tlv): Uint8Array {
    return this.bytes.subarray(tlv.start, tlv.end);
  }

  private primitive(tlv: Tlv, field: string): void {
    if ((tlv.tag & CONSTRUCTED) !== 0) throw new DerError(field, 'expected a primitive element', tlv.start);
  }

  /** INTEGER (or ENUMERATED) contents, checked for minimal two's-complement encoding. */
  integerBytes(tlv: Tlv, field: string): Uint8Array {
    this.primitive(tlv, field);
    const v = this.contents(tlv);
    if (v.length === 0) throw new DerError(field, 'empty integer', tlv.start);
    if (v.length > 1 && ((v[0] === 0x00 && (v[1]! & 0x80) === 0) || (v[0] === 0xff && (v[1]! & 0x80) !== 0))) {
      throw new DerError(field, 'non-minimal integer', tlv.start);
    }
    return v;
  }

  /** A small non-negative INTEGER or ENUMERATED (versions, statuses, reasons). */
  smallUint(tlv: Tlv, field: string): number {
    const v = this.integerBytes(tlv, field);
    if ((v[0]! & 0x80) !== 0) throw new DerError(field, 'negative value', tlv.start);
    if (v.length > 4) throw new DerError(field, 'value too large', tlv.start);
    let n = 0;
    for (const byte of v) n = n * 256 + byte;
    return n;
  }

  boolean(tlv: Tlv, field: string): boolean {
    this.primitive(tlv, field);
    if (tlv.end - tlv.contentStart !== 1) throw new DerError(field, 'boolean must be one byte', tlv.start);
    const v = this.bytes[tlv.contentStart];
    if (v === 0x00) return false;
    if (v === 0xff) return true;
    throw new DerError(field, 'boolean must be 0x00 or 0xFF', tlv.start);
  }

  null(tlv: Tlv, field: string): void {
    this.primitive(tlv, field);
    if (tlv.end !== tlv.contentStart) throw new DerError(field, 'NULL must be empty', tlv.start);
  }

  octets(tlv: Tlv, field: string): Uint8Array {
    this.primitive(tlv, field);
    return this.contents(tlv);
  }

  /** BIT STRING contents without the unused-bits byte; DER requires unused bits to be zero. */
  bitString(tlv: Tlv, field: string): { bits: Uint8Array; unusedBits: number } {
    this.primitive(tlv, field);
    const v = this.contents(tlv);
    if (v.length === 0) throw new DerError(field, 'empty bit string', tlv.start);
    const unusedBits = v[0]!;
    if (unusedBits > 7 || (v.length === 1 && unusedBits !== 0)) throw new DerError(field, 'bad unused-bits count', tlv.start);
    if (unusedBits > 0 && (v[v.length - 1]! & ((1 << unusedBits) - 1)) !== 0) {
      throw new DerError(field, 'unused bits must be zero', tlv.start);
    }
    return { bits: v.subarray(1), unusedBits };
  }

  /** A BIT STRING that must hold whole bytes (keys and signatures). */
  bitStringBytes(tlv: Tlv, field: string): Uint8Array {
    const { bits, unusedBits } = this.bitString(tlv, field);
    if (unusedBits !== 0) throw new DerError(field, 'expected whole bytes', tlv.start);
    return bits;
  }

  oid(tlv: Tlv, field: string): string {
    this.primitive(tlv, field);
    const v = this.contents(tlv);
    if (v.length === 0) throw new DerError(field, 'empty object identifier', tlv.start);
    if (v.length > 64) throw new DerError(field, 'object identifier too long', tlv.start);
    this.budget.spend(v.length, field, tlv.start);
    let out = '';
    let value = 0;
    let fresh = true;
    for (let i = 0; i < v.length; i++) {
      const byte = v[i]!;
      if (fresh && byte === 0x80) throw new DerError(field, 'non-minimal object identifier arc', tlv.start);
      // Keeps value * 128 exact in a double (below 2^53).
      if (value >= 0x400000000000) throw new DerError(field, 'object identifier arc too large', tlv.start);
      value = value * 128 + (byte & 0x7f);
      fresh = (byte & 0x80) === 0;
      if (fresh) {
        if (out === '') {
          const first = value < 40 ? 0 : value < 80 ? 1 : 2;
          out = `${first}.${value - first * 40}`;
        } else {
          out += `.${value}`;
        }
        value = 0;
      }
    }
    if (!fresh) throw new DerError(field, 'truncated object identifier', tlv.start);
    return out;
  }

  /**
   * An element of a field typed ANY (an AlgorithmIdentifier's parameters). Like OpenSSL, which
   * decodes such a value by its universal tag, the primitive types are checked: BOOLEAN, INTEGER,
   * NULL, OBJECT IDENTIFIER, BIT STRING and the fixed-width string types.
   */
  any(field: string): Tlv {
    const tlv = this.next(field);
    switch (tlv.tag) {
      case TAG.BOOLEAN:
        this.boolean(tlv, field);
        break;
      case TAG.INTEGER:
      case TAG.ENUMERATED:
        this.integerBytes(tlv, field);
        break;
      case TAG.NULL:
        this.null(tlv, field);
        break;
      case TAG.OID:
        this.oid(tlv, field);
        break;
      case TAG.BIT_STRING:
        this.bitString(tlv, field);
        break;
      case TAG.BMP_STRING:
      case TAG.UNIVERSAL_STRING:
      case TAG.UTF8_STRING:
        this.string(tlv, field);
        break;
    }
    return tlv;
  }

  /** UTCTime or GeneralizedTime, as epoch milliseconds; DER form only (Z, seconds present). */
  time(tlv: Tlv, field: string): number {
    this.primitive(tlv, field);
    const v = this.contents(tlv);
    this.budget.spend(v.length, field, tlv.start);
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

  /** A Name's attribute value: one of the string types (as OpenSSL's X509_NAME_ENTRY requires), as text. */
  nameValue(tlv: Tlv, field: string): string {
    if (!NAME_STRING_TAGS.has(tlv.tag)) throw new DerError(field, `a name's value must be a string type, found tag 0x${hex2(tlv.tag)}`, tlv.start);
    return this.string(tlv, field);
  }

  /** Check a Name's attribute value as nameValue does, without building its text (names are checked at parse, shown later). */
  checkNameValue(tlv: Tlv, field: string): void {
    if (!NAME_STRING_TAGS.has(tlv.tag)) throw new DerError(field, `a name's value must be a string type, found tag 0x${hex2(tlv.tag)}`, tlv.start);
    this.primitive(tlv, field);
    const v = this.contents(tlv);
    this.budget.spend(v.length, field, tlv.start);
    if (tlv.tag === TAG.BMP_STRING || tlv.tag === TAG.UNIVERSAL_STRING) checkWidth(tlv, v, field);
    else if (tlv.tag === TAG.UTF8_STRING && !isUtf8(v)) throw new DerError(field, 'UTF8String is not valid UTF-8', tlv.start);
  }

  /**
   * A directory-string-like value as text (for display). Each string type's encoding is checked as
   * OpenSSL checks it: UTF-8 must be valid, a BMPString whole 2-byte units, a UniversalString whole
   * 4-byte code points. Other string types are shown byte for byte.
   */
  string(tlv: Tlv, field: string): string {
    this.primitive(tlv, field);
    const v = this.contents(tlv);
    this.budget.spend(v.length, field, tlv.start);
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

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}
