// A test PKI built with @peculiar/x509 (an implementation independent of ours): root,
// intermediate, leaves of several key types, and delegated OCSP responders.

import 'reflect-metadata';
import { KeyObject, webcrypto } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { Certificate } from '../../src/ocsp/certificate.ts';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export type KeyKind = 'ec-p256' | 'ec-p384' | 'ec-p521' | 'rsa-2048' | 'rsa-pss' | 'ed25519';

const KEY_PARAMS: Record<KeyKind, { gen: EcKeyGenParams | RsaHashedKeyGenParams | Algorithm; sign: Algorithm | EcdsaParams | RsaPssParams }> = {
  'ec-p256': { gen: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } },
  'ec-p384': { gen: { name: 'ECDSA', namedCurve: 'P-384' }, sign: { name: 'ECDSA', hash: 'SHA-384' } },
  'ec-p521': { gen: { name: 'ECDSA', namedCurve: 'P-521' }, sign: { name: 'ECDSA', hash: 'SHA-512' } },
  'rsa-2048': {
    gen: { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    sign: { name: 'RSASSA-PKCS1-v1_5' },
  },
  'rsa-pss': {
    gen: { name: 'RSA-PSS', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    sign: { name: 'RSA-PSS', saltLength: 32 },
  },
  ed25519: { gen: { name: 'Ed25519' }, sign: { name: 'Ed25519' } },
};

/** A certificate with its private key, in every form the tests need. */
export interface Issued {
  readonly name: string;
  readonly kind: KeyKind;
  readonly der: Buffer;
  readonly pem: string;
  readonly cert: Certificate;
  readonly privateKey: KeyObject;
  readonly keyPem: string;
  readonly keys: CryptoKeyPair;
  readonly x509: x509.X509Certificate;
}

export interface IssueOptions {
  readonly name: string;
  readonly kind?: KeyKind;
  readonly issuer?: Issued;
  readonly ca?: boolean;
  readonly ocspUrls?: readonly string[];
  readonly caIssuersUrls?: readonly string[];
  readonly mustStaple?: boolean;
  readonly ocspSigning?: boolean;
  readonly serial?: string;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  /** Further extensions (an unknown critical one, say). */
  readonly extraExtensions?: readonly x509.Extension[];
}

const DAY = 86_400_000;
let serialCounter = 0x1000;

// STAPLER_TEST_KEY_POOL=dir reuses key pairs across processes: mutation testing runs a test file
// once per mutant, and generating the PKI's keys (RSA above all) was most of a file's time. The
// nth key of a kind in a process is the pool's nth, so keys within a process still all differ;
// certificates are still issued afresh. Unset (the normal suite), every key is new.
const keyPool = process.env.STAPLER_TEST_KEY_POOL;
const keysTaken = new Map<KeyKind, number>();

async function keyPair(kind: KeyKind): Promise<CryptoKeyPair> {
  const gen = KEY_PARAMS[kind].gen as EcKeyGenParams;
  if (!keyPool) return await webcrypto.subtle.generateKey(gen, true, ['sign', 'verify']);
  const n = keysTaken.get(kind) ?? 0;
  keysTaken.set(kind, n + 1);
  const file = join(keyPool, `${kind}-${n}.json`);
  let stored: { pkcs8: string; spki: string } | undefined;
  try {
    stored = JSON.parse(readFileSync(file, 'utf8')) as { pkcs8: string; spki: string };
  } catch {
    const fresh = await webcrypto.subtle.generateKey(gen, true, ['sign', 'verify']);
    stored = {
      pkcs8: Buffer.from(await webcrypto.subtle.exportKey('pkcs8', fresh.privateKey)).toString('base64'),
      spki: Buffer.from(await webcrypto.subtle.exportKey('spki', fresh.publicKey)).toString('base64'),
    };
    mkdirSync(keyPool, { recursive: true });
    // Written whole then renamed: test files run side by side may fill the pool at once.
    writeFileSync(`${file}.${process.pid}`, JSON.stringify(stored));
    renameSync(`${file}.${process.pid}`, file);
  }
  return {
    privateKey: await webcrypto.subtle.importKey('pkcs8', Buffer.from(stored.pkcs8, 'base64'), gen, true, ['sign']),
    publicKey: await webcrypto.subtle.importKey('spki', Buffer.from(stored.spki, 'base64'), gen, true, ['verify']),
  };
}

export async function issue(opts: IssueOptions): Promise<Issued> {
  const kind = opts.kind ?? 'ec-p256';
  const keys = await keyPair(kind);
  const extensions: x509.Extension[] = [];
  if (opts.ca) {
    extensions.push(new x509.BasicConstraintsExtension(true, undefined, true));
    extensions.push(new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true));
  } else {
    extensions.push(new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true));
  }
  extensions.push(await x509.SubjectKeyIdentifierExtension.create(keys.publicKey));
  if (opts.ocspUrls?.length || opts.caIssuersUrls?.length) {
    extensions.push(new x509.AuthorityInfoAccessExtension({ ocsp: [...(opts.ocspUrls ?? [])], caIssuers: [...(opts.caIssuersUrls ?? [])] }));
  }
  if (opts.mustStaple) {
    // TLS Feature (RFC 7633): SEQUENCE { INTEGER 5 } = status_request.
    extensions.push(new x509.Extension('1.3.6.1.5.5.7.1.24', false, new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x05])));
  }
  if (opts.ocspSigning) extensions.push(new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.ocspSigning], false));
  extensions.push(...(opts.extraExtensions ?? []));
  if (!opts.ca && !opts.ocspSigning) {
    extensions.push(new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false));
    // A server certificate names its host, so that strict clients (and `stapler check`) accept it.
    if (/^[a-z0-9.-]+$/.test(opts.name)) extensions.push(new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: opts.name }]));
  }

  const signerKind = opts.issuer?.kind ?? kind;
  const common = {
    serialNumber: opts.serial ?? (serialCounter++).toString(16).padStart(8, '0'),
    notBefore: opts.notBefore ?? new Date(Date.now() - DAY),
    notAfter: opts.notAfter ?? new Date(Date.now() + 365 * DAY),
    extensions,
    signingAlgorithm: KEY_PARAMS[signerKind].sign,
  };
  const subject = `CN=${opts.name}, O=Stapler Test`;
  const cert = opts.issuer
    ? await x509.X509CertificateGenerator.create({
        ...common,
        subject,
        issuer: opts.issuer.x509.subject,
        publicKey: keys.publicKey,
        signingKey: opts.issuer.keys.privateKey,
      })
    : await x509.X509CertificateGenerator.createSelfSigned({ ...common, name: subject, keys });
  const der = Buffer.from(cert.rawData);
  const privateKey = KeyObject.from(keys.privateKey);
  return {
    name: opts.name,
    kind,
    der,
    pem: cert.toString('pem') + '\n',
    cert: new Certificate(der, opts.name),
    privateKey,
    keyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    keys,
    x509: cert,
  };
}

export interface TestPki {
  readonly root: Issued;
  readonly intermediate: Issued;
  /** ECDSA leaf with the OCSP URL. */
  readonly leaf: Issued;
  readonly rsaLeaf: Issued;
  readonly noAiaLeaf: Issued;
  readonly mustStapleLeaf: Issued;
  /** Delegated responder: issued by the intermediate, with id-kp-OCSPSigning. */
  readonly delegated: Issued;
  /** Issued by the intermediate but without the OCSP-signing EKU: not authorized. */
  readonly delegatedNoEku: Issued;
  /** Has the EKU but is issued by another CA: not authorized. */
  readonly foreignResponder: Issued;
  /** Issued by the intermediate with the EKU, but already expired. */
  readonly expiredDelegated: Issued;
}

export interface PkiOptions {
  readonly ocspUrl: string;
  /** Key type of the CA certificates (and so of the issuer-signed responses). */
  readonly caKind?: KeyKind;
  readonly leafKind?: KeyKind;
}

export async function makePki(opts: PkiOptions): Promise<TestPki> {
  const caKind = opts.caKind ?? 'ec-p256';
  const root = await issue({ name: 'Stapler Test Root', kind: caKind, ca: true });
  const intermediate = await issue({ name: 'Stapler Test Intermediate', kind: caKind, ca: true, issuer: root });
  const otherCa = await issue({ name: 'Other Test CA', kind: caKind, ca: true });
  const ocspUrls = [opts.ocspUrl];
  return {
    root,
    intermediate,
    leaf: await issue({ name: 'leaf.test', kind: opts.leafKind ?? 'ec-p256', issuer: intermediate, ocspUrls, caIssuersUrls: ['http://127.0.0.1:1/ca.crt'] }),
    rsaLeaf: await issue({ name: 'rsa.test', kind: 'rsa-2048', issuer: intermediate, ocspUrls }),
    noAiaLeaf: await issue({ name: 'no-aia.test', issuer: intermediate }),
    mustStapleLeaf: await issue({ name: 'must-staple.test', issuer: intermediate, ocspUrls, mustStaple: true }),
    delegated: await issue({ name: 'Stapler Test OCSP Responder', kind: caKind, issuer: intermediate, ocspSigning: true }),
    delegatedNoEku: await issue({ name: 'Not An OCSP Responder', kind: caKind, issuer: intermediate }),
    foreignResponder: await issue({ name: 'Foreign OCSP Responder', kind: caKind, issuer: otherCa, ocspSigning: true }),
    expiredDelegated: await issue({
      name: 'Expired OCSP Responder',
      kind: caKind,
      issuer: intermediate,
      ocspSigning: true,
      notBefore: new Date(Date.now() - 30 * DAY),
      notAfter: new Date(Date.now() - DAY),
    }),
  };
}

/** PEM of a full chain: leaf then intermediate (what a server's fullchain.pem holds). */
export function fullchain(leaf: Issued, ...chain: Issued[]): string {
  return [leaf, ...chain].map((c) => c.pem).join('');
}
