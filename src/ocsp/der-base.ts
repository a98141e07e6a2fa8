// The vocabulary of the DER reader: tags, the element type, and its one error type.

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

export function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}
