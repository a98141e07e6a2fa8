// Reading certificates from PEM or DER bytes, and finding a certificate's issuer in a chain.

import { ownedCopy } from './bytes.ts';
import { Certificate } from './certificate.ts';
import { InputError } from './errors.ts';

const BASE64_BODY = /^[A-Za-z0-9+/=\s]*$/;
const BEGIN = '-----BEGIN ';
const END = '-----END ';
const DASHES = '-----';
const MAX_LABEL = 64;

/** The largest certificate input (PEM bundle or DER) the core reads: far above any real chain or CA bundle. */
export const MAX_PEM_BYTES = 1024 * 1024;

/**
 * The complete PEM blocks in `text`, in order: each BEGIN line paired with the next END line of
 * the same label. Linear: every END line is indexed once, and BEGIN lines are taken in order, so
 * no stretch of the text is scanned twice (a regular expression here was quadratic on BEGIN
 * lines without END lines: 17 s for 1000 KiB).
 */
export function pemBlocks(text: string): { type: string; body: string }[] {
  const ends = new Map<string, number[]>();
  for (let at = text.indexOf(END); at >= 0; at = text.indexOf(END, at + END.length)) {
    const type = labelAt(text, at + END.length);
    if (type === undefined) continue;
    let list = ends.get(type);
    if (!list) ends.set(type, (list = []));
    list.push(at);
  }
  const nextEnd = new Map<string, number>();
  const blocks: { type: string; body: string }[] = [];
  let from = 0;
  for (let at = text.indexOf(BEGIN, from); at >= 0; at = text.indexOf(BEGIN, from)) {
    from = at + BEGIN.length;
    const type = labelAt(text, from);
    if (type === undefined) continue;
    const bodyStart = from + type.length + DASHES.length;
    const list = ends.get(type);
    if (!list) continue;
    // END positions only move forward, as BEGIN positions do: a cursor per label keeps it linear.
    let i = nextEnd.get(type) ?? 0;
    while (i < list.length && list[i]! < bodyStart) i++;
    nextEnd.set(type, i);
    if (i === list.length) continue;
    const endAt = list[i]!;
    blocks.push({ type, body: text.slice(bodyStart, endAt) });
    from = endAt + END.length + type.length + DASHES.length;
  }
  return blocks;
}

/** The label of a BEGIN or END line starting at `at` (`[A-Z0-9 ]+` then five dashes), or undefined. */
function labelAt(text: string, at: number): string | undefined {
  let end = at;
  const limit = Math.min(text.length, at + MAX_LABEL);
  while (end < limit && isLabelChar(text.charCodeAt(end))) end++;
  if (end === at || !text.startsWith(DASHES, end)) return undefined;
  return text.slice(at, end);
}

function isLabelChar(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x20;
}

/**
 * All certificates in `bytes` (PEM with one or more blocks, or a single DER certificate), in order.
 * `known` may return an already parsed certificate for a chain's DER (not the first's): a chain's
 * intermediate is then parsed once, not with every leaf.
 */
export function readCertificates(bytes: Uint8Array, label: string, known?: (der: Uint8Array) => Certificate | undefined): Certificate[] {
  if (bytes.length === 0) throw new InputError(label, 'is empty');
  if (bytes.length > MAX_PEM_BYTES) throw new InputError(label, `is ${bytes.length} bytes, over the ${MAX_PEM_BYTES}-byte limit for certificates`);
  if (bytes[0] === 0x30) return [new Certificate(ownedCopy(bytes), label)];
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
  const certs: Certificate[] = [];
  const otherBlocks: string[] = [];
  for (const { type, body } of pemBlocks(text)) {
    if (type !== 'CERTIFICATE') {
      otherBlocks.push(type);
      continue;
    }
    if (!BASE64_BODY.test(body)) throw new InputError(label, `certificate #${certs.length + 1} has invalid base64`);
    const der = Buffer.from(body, 'base64');
    const reused = certs.length > 0 && known ? known(der) : undefined;
    certs.push(reused ?? new Certificate(ownedCopy(der), `${label} (certificate #${certs.length + 1})`));
  }
  if (certs.length > 0) return certs;
  if (otherBlocks.some((t) => t.includes('PRIVATE KEY'))) {
    throw new InputError(label, 'holds a private key, not a certificate');
  }
  if (otherBlocks.length > 0) {
    const more = otherBlocks.length > 5 ? ` and ${otherBlocks.length - 5} more` : '';
    throw new InputError(label, `holds no certificate (found ${otherBlocks.slice(0, 5).join(', ')}${more})`);
  }
  if (text.includes('-----BEGIN')) throw new InputError(label, 'has a PEM block that is truncated or corrupt');
  throw new InputError(label, 'is neither PEM nor DER');
}

/** The issuer of `cert` among `candidates`: the name must chain, and the candidate's key must verify the signature. */
export function findIssuer(cert: Certificate, candidates: readonly Certificate[]): Certificate | undefined {
  for (const candidate of candidates) {
    if (candidate === cert || candidate.der === cert.der) continue;
    if (cert.isIssuedBy(candidate)) return candidate;
  }
  return undefined;
}

/** A leaf (the first certificate) with the rest of its chain, and its issuer if the chain holds it. */
export interface LoadedChain {
  readonly leaf: Certificate;
  readonly chain: readonly Certificate[];
  readonly issuer: Certificate | undefined;
}

/** Read a certificate chain (PEM or DER): the leaf, the rest, and the issuer when it is among them or `extraIssuers`. */
export function readChain(bytes: Uint8Array, label: string, extraIssuers: readonly Certificate[] = []): LoadedChain {
  const certs = readCertificates(bytes, label);
  const leaf = certs[0]!;
  return { leaf, chain: certs, issuer: findIssuer(leaf, [...extraIssuers, ...certs.slice(1)]) };
}
