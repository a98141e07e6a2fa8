// Reading certificates from PEM or DER bytes, and finding a certificate's issuer in a chain.

import { ownedCopy } from './bytes.ts';
import { Certificate } from './certificate.ts';
import { InputError } from './errors.ts';

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
const BASE64_BODY = /^[A-Za-z0-9+/=\s]*$/;

/** All certificates in `bytes` (PEM with one or more blocks, or a single DER certificate), in order. */
export function readCertificates(bytes: Uint8Array, label: string): Certificate[] {
  if (bytes.length === 0) throw new InputError(label, 'is empty');
  if (bytes[0] === 0x30) return [new Certificate(ownedCopy(bytes), label)];
  const text = Buffer.from(bytes).toString('latin1');
  const certs: Certificate[] = [];
  const otherBlocks: string[] = [];
  for (const m of text.matchAll(PEM_BLOCK)) {
    const type = m[1]!;
    if (type !== 'CERTIFICATE') {
      otherBlocks.push(type);
      continue;
    }
    const body = m[2]!;
    if (!BASE64_BODY.test(body)) throw new InputError(label, `certificate #${certs.length + 1} has invalid base64`);
    certs.push(new Certificate(ownedCopy(Buffer.from(body, 'base64')), `${label} (certificate #${certs.length + 1})`));
  }
  if (certs.length > 0) return certs;
  if (otherBlocks.some((t) => t.includes('PRIVATE KEY'))) {
    throw new InputError(label, 'holds a private key, not a certificate');
  }
  if (otherBlocks.length > 0) throw new InputError(label, `holds no certificate (found ${otherBlocks.join(', ')})`);
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

export function readChain(bytes: Uint8Array, label: string, extraIssuers: readonly Certificate[] = []): LoadedChain {
  const certs = readCertificates(bytes, label);
  const leaf = certs[0]!;
  return { leaf, chain: certs, issuer: findIssuer(leaf, [...extraIssuers, ...certs.slice(1)]) };
}
