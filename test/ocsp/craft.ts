// Hand-built certificates for hardening tests: every field under the test's control (names in
// any string type, odd lengths, a signed algorithm that differs from the outer one), signed by a
// test CA with node:crypto so that only the crafted detail is wrong.

import { sign } from 'node:crypto';
import type { Issued } from '../support/pki.ts';
import type { Prng } from '../support/prng.ts';
import { derTlv } from '../support/responses.ts';

const OIDS = {
  ecdsaWithSha256: [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02],
  ecdsaWithSha384: [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03],
  commonName: [0x55, 0x04, 0x03],
  organization: [0x55, 0x04, 0x0a],
};

export const STRING_TAG = { utf8: 0x0c, printable: 0x13, ia5: 0x16, universal: 0x1c, bmp: 0x1e, t61: 0x14 } as const;

const seq = (...parts: Uint8Array[]): Buffer => derTlv(0x30, Buffer.concat(parts));
const oid = (arcs: readonly number[]): Buffer => derTlv(0x06, Buffer.from([...arcs]));
const utcTime = (d: Date): Buffer => derTlv(0x17, Buffer.from(d.toISOString().replace(/^\d\d(\d\d)-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d).*$/, '$1$2$3$4$5$6Z')));

/** A Name of one RDN per attribute: [type OID arcs, string tag, value bytes]. */
export function craftName(...attrs: readonly (readonly [readonly number[], number, Uint8Array])[]): Buffer {
  return seq(...attrs.map(([type, tag, value]) => derTlv(0x31, seq(oid(type), derTlv(tag, value)))));
}

/** CN=<value> in the given string type, with O=Stapler Test: the raw value bytes are used as given. */
export function nameWith(tag: number, value: Uint8Array): Buffer {
  return craftName([OIDS.commonName, tag, value], [OIDS.organization, STRING_TAG.utf8, Buffer.from('Stapler Test')]);
}

export interface CraftOptions {
  /** Signs the certificate and names the issuer (an ECDSA P-256 test CA). */
  readonly issuer: Issued;
  readonly subject?: Buffer;
  /** The tbsCertificate's copy of the signature algorithm (default: the outer one). */
  readonly innerAlgorithm?: Buffer;
  /** Extensions (each a full Extension SEQUENCE). */
  readonly extensions?: readonly Buffer[];
  readonly notBefore?: Date;
  readonly notAfter?: Date;
}

export const ECDSA_SHA256 = seq(oid(OIDS.ecdsaWithSha256));
export const ECDSA_SHA384 = seq(oid(OIDS.ecdsaWithSha384));

/** A v3 certificate for the issuer's own key (its SPKI reused: keys are not what is tested). */
export function craftCertificate(opts: CraftOptions): Buffer {
  const outer = ECDSA_SHA256;
  const now = Date.now();
  const extensions = opts.extensions?.length ? [derTlv(0xa3, seq(...opts.extensions))] : [];
  const tbs = seq(
    derTlv(0xa0, derTlv(0x02, Buffer.from([2]))),
    derTlv(0x02, Buffer.from([0x01, 0x23, 0x45])),
    opts.innerAlgorithm ?? outer,
    Buffer.from(opts.issuer.cert.subjectName),
    seq(utcTime(opts.notBefore ?? new Date(now - 86_400_000)), utcTime(opts.notAfter ?? new Date(now + 86_400_000))),
    opts.subject ?? nameWith(STRING_TAG.utf8, Buffer.from('crafted.test')),
    Buffer.from(opts.issuer.cert.spki),
    ...extensions,
  );
  const signature = sign('sha256', tbs, opts.issuer.privateKey);
  return seq(tbs, outer, derTlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
}

/** PEM of DER. */
export function toPem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END CERTIFICATE-----\n`;
}

/** A DER tree, as a structure-aware mutator sees it. */
export interface Node {
  tag: number;
  children?: Node[];
  content?: Buffer;
}

export function toTree(der: Buffer, at = 0, end = der.length): Node[] {
  const out: Node[] = [];
  while (at < end) {
    const tag = der[at]!;
    const first = der[at + 1]!;
    let length = first;
    let start = at + 2;
    if (first >= 0x80) {
      length = 0;
      for (let i = 0; i < (first & 0x7f); i++) length = length * 256 + der[at + 2 + i]!;
      start += first & 0x7f;
    }
    const stop = start + length;
    // Primitive, and the OCTET STRINGs that hold extension values, are leaves.
    out.push((tag & 0x20) !== 0 ? { tag, children: toTree(der, start, stop) } : { tag, content: der.subarray(start, stop) });
    at = stop;
  }
  return out;
}

export function fromTree(nodes: Node[]): Buffer {
  return Buffer.concat(nodes.map((n) => derTlv(n.tag, n.children ? fromTree(n.children) : n.content!)));
}

function leaves(nodes: Node[], out: Node[] = []): Node[] {
  for (const n of nodes) {
    if (n.children) leaves(n.children, out);
    else out.push(n);
  }
  return out;
}

/**
 * Change one primitive element (its length by a byte or three, or its bytes, or its tag to
 * another string type) and re-encode every enclosing length: the mutant stays well nested, so
 * that it reaches the value decoders (strings, times, OIDs, integers, bit strings).
 */
export function mutateStructure(rng: Prng, der: Buffer): Buffer {
  const tree = toTree(der);
  const leaf = rng.pick(leaves(tree));
  const c = leaf.content!;
  switch (rng.int(5)) {
    case 0:
      leaf.content = c.subarray(0, Math.max(0, c.length - 1 - rng.int(3)));
      break;
    case 1:
      leaf.content = Buffer.concat([c, rng.bytes(1 + rng.int(3))]);
      break;
    case 2: {
      const b = Buffer.from(c);
      if (b.length > 0) b[rng.int(b.length)] = rng.pick([0x00, 0x80, 0xc0, 0xed, 0xf4, 0xff, 0x11, 0x2e, 0x5a]);
      leaf.content = b;
      break;
    }
    case 3:
      leaf.tag = rng.pick([0x0c, 0x13, 0x14, 0x16, 0x1c, 0x1e, 0x17, 0x18, 0x06, 0x02, 0x03, 0x01, 0x05]);
      break;
    default:
      leaf.content = rng.bytes(rng.int(12));
  }
  return fromTree(tree);
}
