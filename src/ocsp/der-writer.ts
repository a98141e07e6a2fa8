// The few DER encoders needed to build an OCSP request. Writing, unlike reading, only ever
// sees our own well-formed values, so it stays this small.

import { TAG } from './der.ts';

export function tlv(tag: number, ...parts: Uint8Array[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), encodeLength(body.length), body]);
}

function encodeLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export const sequence = (...parts: Uint8Array[]): Buffer => tlv(TAG.SEQUENCE, ...parts);
export const octetString = (v: Uint8Array): Buffer => tlv(TAG.OCTET_STRING, v);
export const derNull = (): Buffer => Buffer.from([TAG.NULL, 0]);

export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const out: number[] = [];
  const push = (v: number): void => {
    const chunk = [v & 0x7f];
    for (let x = Math.floor(v / 128); x > 0; x = Math.floor(x / 128)) chunk.unshift(0x80 | (x & 0x7f));
    out.push(...chunk);
  };
  push(arcs[0]! * 40 + arcs[1]!);
  for (const arc of arcs.slice(2)) push(arc);
  return tlv(TAG.OID, Buffer.from(out));
}

/** INTEGER from its (already minimal, two's-complement) content bytes, as read from a certificate. */
export const integerFromContent = (content: Uint8Array): Buffer => tlv(TAG.INTEGER, content);
