// Loading the CLI's inputs: certificates with their issuer, and response files.

import type { Certificate } from '../ocsp/certificate.ts';
import { InputError } from '../ocsp/errors.ts';
import { findIssuer, readCertificates } from '../ocsp/pem.ts';
import { readFileCapped, readFileCappedSync } from '../io/files.ts';

export const CERT_FILE_LIMIT = 1024 * 1024;
/** Files larger than this are refused outright; verification applies its own, smaller limit. */
export const RESPONSE_FILE_LIMIT = 1024 * 1024;

/** An input file, read at once (the command waits on nothing else), or standard input for "-". */
export async function readInput(path: string, maxBytes: number, opts: { regularFileOnly?: boolean } = {}): Promise<Buffer> {
  return path === '-' ? readFileCapped(path, maxBytes, opts) : readFileCappedSync(path, maxBytes, opts);
}

export interface CertAndIssuer {
  readonly cert: Certificate;
  readonly issuer: Certificate;
}

/** The leaf from `certPath`, and its issuer from `issuerPath` or else from the chain in `certPath`. */
export async function loadCertAndIssuer(certPath: string, issuerPath?: string): Promise<CertAndIssuer> {
  const chain = readCertificates(await readInput(certPath, CERT_FILE_LIMIT), certPath);
  const cert = chain[0]!;
  const candidates = issuerPath ? readCertificates(await readInput(issuerPath, CERT_FILE_LIMIT), issuerPath) : chain.slice(1);
  const issuer = findIssuer(cert, candidates);
  if (issuer) return { cert, issuer };
  if (issuerPath) {
    throw new InputError(issuerPath, `holds no certificate that issued "${cert.subject}" (names or signature do not match)`);
  }
  throw new InputError(certPath, `holds no issuer for "${cert.subject}" (issued by "${cert.issuer}"): give the full chain or --issuer`);
}

/** A response file: refused when it plainly is not DER (empty, HTML, PEM, text) or too big to consider. */
export async function loadResponseFile(path: string): Promise<Buffer> {
  const der = await readInput(path, RESPONSE_FILE_LIMIT);
  const label = path === '-' ? 'standard input' : path;
  if (der.length === 0) throw new InputError(label, 'is empty');
  if (der[0] !== 0x30) {
    const head = der.subarray(0, 64).toString('latin1').trimStart().toLowerCase();
    const looks = head.startsWith('<')
      ? 'it looks like HTML'
      : head.startsWith('-----begin')
        ? 'it looks like PEM'
        : /^[\x20-\x7e\s]*$/.test(head)
          ? 'it looks like text'
          : 'it does not start with a DER SEQUENCE';
    throw new InputError(label, `is not a DER OCSP response (${looks})`);
  }
  return der;
}
