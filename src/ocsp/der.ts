// A small, strict DER reader for the handful of structures OCSP and X.509 need.
// Not a general ASN.1 library: the callers walk a known schema, and the reader enforces
// DER's rules (definite, minimal lengths; no trailing bytes; primitive/constructed forms)
// and hard limits on depth and work, so hostile input costs linear time at most.

import { DerError, hex2, TAG, type Tlv } from './der-base.ts';
import { checkNameValueTag, checkStringEncoding, decodeString, decodeTime } from './der-values.ts';

export { ctx, ctxPrim, DerError, TAG, type Tlv } from './der-base.ts';

const CONSTRUCTED = 0x20;
const MAX_DEPTH = 24;

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
    const v = this.oidContents(tlv, field);
    let out = '';
    let value = 0;
    for (let i = 0; i < v.length; i++) {
      const byte = v[i]!;
      value = value * 128 + (byte & 0x7f);
      if ((byte & 0x80) === 0) {
        if (out === '') {
          const first = value < 40 ? 0 : value < 80 ? 1 : 2;
          out = `${first}.${value - first * 40}`;
        } else {
          out += `.${value}`;
        }
        value = 0;
      }
    }
    return out;
  }

  /**
   * An OBJECT IDENTIFIER's contents octets, checked as oid() checks them, without making its
   * dotted text: for comparing with known OIDs (making the text of 64 arcs costs more than reading them).
   */
  oidContents(tlv: Tlv, field: string): Uint8Array {
    this.primitive(tlv, field);
    const v = this.contents(tlv);
    if (v.length === 0) throw new DerError(field, 'empty object identifier', tlv.start);
    if (v.length > 64) throw new DerError(field, 'object identifier too long', tlv.start);
    this.budget.spend(v.length, field, tlv.start);
    let value = 0;
    let fresh = true;
    for (let i = 0; i < v.length; i++) {
      const byte = v[i]!;
      if (fresh && byte === 0x80) throw new DerError(field, 'non-minimal object identifier arc', tlv.start);
      // Keeps value * 128 exact in a double (below 2^53).
      if (value >= 0x400000000000) throw new DerError(field, 'object identifier arc too large', tlv.start);
      fresh = (byte & 0x80) === 0;
      value = fresh ? 0 : value * 128 + (byte & 0x7f);
    }
    if (!fresh) throw new DerError(field, 'truncated object identifier', tlv.start);
    return v;
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
    return decodeTime(tlv, v, field);
  }

  /** A Name's attribute value: one of the string types, as text. */
  nameValue(tlv: Tlv, field: string): string {
    checkNameValueTag(tlv, field);
    return this.string(tlv, field);
  }

  /** Check a Name's attribute value as nameValue does, without building its text (names are checked at parse, shown later). */
  checkNameValue(tlv: Tlv, field: string): void {
    checkNameValueTag(tlv, field);
    this.primitive(tlv, field);
    const v = this.contents(tlv);
    this.budget.spend(v.length, field, tlv.start);
    checkStringEncoding(tlv, v, field);
  }

  /** A directory-string-like value as text (for display), its encoding checked (decodeString). */
  string(tlv: Tlv, field: string): string {
    this.primitive(tlv, field);
    const v = this.contents(tlv);
    this.budget.spend(v.length, field, tlv.start);
    return decodeString(tlv, v, field);
  }
}
