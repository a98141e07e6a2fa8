// Builds OCSP responses with pkijs (an encoder independent of our reader), signed with
// node:crypto so that every algorithm and every fault can be produced on purpose.

import { constants, createHash, sign as cryptoSign, webcrypto } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import type { Issued } from './pki.ts';

pkijs.setEngine('node', new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto as unknown as Crypto }));

export type HashAlg = 'sha1' | 'sha256' | 'sha384' | 'sha512';
const HASH_OIDS: Record<HashAlg, string> = {
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
};

export interface ExtensionSpec {
  readonly oid: string;
  readonly critical?: boolean;
  /** extnValue contents (the DER inside the OCTET STRING). */
  readonly value: Uint8Array;
}

export interface SingleSpec {
  readonly cert: Issued;
  readonly issuer: Issued;
  readonly status?: 'good' | 'revoked' | 'unknown';
  readonly revocationTime?: Date;
  readonly revocationReason?: number;
  readonly thisUpdate: Date;
  /** null: no nextUpdate at all. */
  readonly nextUpdate: Date | null;
  readonly certIdHash?: HashAlg;
  /** Replace the serial in the CertID (hex), e.g. to answer for another certificate. */
  readonly serialHex?: string;
  readonly extensions?: readonly ExtensionSpec[];
}

export interface ResponseSpec extends SingleSpec {
  /** Who signs (default: the issuer). */
  readonly signer?: Issued;
  /** Who the responder ID names (default: the signer). */
  readonly responderIdOf?: Issued;
  readonly responderIdBy?: 'name' | 'key';
  /** Certificates to embed (default: the signer when it is not the issuer). */
  readonly certs?: readonly Issued[];
  readonly producedAt?: Date;
  /** Signature hash (default: the natural one for the signer's key). */
  readonly signatureHash?: HashAlg;
  readonly corruptSignature?: boolean;
  /** Label the signature with this algorithm OID instead of the real one. */
  readonly signatureAlgorithmOid?: string;
  readonly responseExtensions?: readonly ExtensionSpec[];
  /** Echo this nonce in the response extensions. */
  readonly nonce?: Uint8Array;
  /** Further SingleResponses in the same response. */
  readonly extraSingles?: readonly SingleSpec[];
  /** A response with no SingleResponse at all (its cert and window then go unused). */
  readonly noSingles?: boolean;
  /** Raw DER elements appended to `certs` after the certificates (junk, mutants: `certs` is unsigned). */
  readonly rawCerts?: readonly Uint8Array[];
}

export function buildResponse(spec: ResponseSpec): Buffer {
  const signer = spec.signer ?? spec.issuer;
  const responderIdOf = spec.responderIdOf ?? signer;
  const data = new pkijs.ResponseData();
  if (spec.responderIdBy === 'key') {
    const keyHash = createHash('sha1').update(responderIdOf.cert.publicKeyBits).digest();
    data.responderID = new asn1js.OctetString({ valueHex: bytes(keyHash) });
  } else {
    data.responderID = pkijs.RelativeDistinguishedNames.fromBER(bytes(responderIdOf.cert.subjectName));
  }
  data.producedAt = seconds(spec.producedAt ?? spec.thisUpdate);
  data.responses = spec.noSingles ? [] : [single(spec), ...(spec.extraSingles ?? []).map(single)];
  const extensions = [...(spec.responseExtensions ?? [])];
  if (spec.nonce) extensions.push({ oid: '1.3.6.1.5.5.7.48.1.2', value: new Uint8Array(new asn1js.OctetString({ valueHex: bytes(spec.nonce) }).toBER()) });
  if (extensions.length > 0) data.responseExtensions = extensions.map(toExtension);

  const tbs = Buffer.from(data.toSchema(true).toBER());
  data.tbsView = new Uint8Array(tbs);
  const signed = signWith(signer, tbs, spec.signatureHash);
  const { signature } = signed;
  const algorithm = spec.signatureAlgorithmOid
    ? new pkijs.AlgorithmIdentifier({ algorithmId: spec.signatureAlgorithmOid, algorithmParams: new asn1js.Null() })
    : signed.algorithm;
  if (spec.corruptSignature) signature[signature.length - 5]! ^= 0x5a;

  const basic = new pkijs.BasicOCSPResponse({
    tbsResponseData: data,
    signatureAlgorithm: algorithm,
    signature: new asn1js.BitString({ valueHex: bytes(signature) }),
  });
  const embedded = spec.certs ?? (signer === spec.issuer ? [] : [signer]);
  if (spec.rawCerts) return wrapBasic(withCerts(Buffer.from(basic.toSchema().toBER()), [...embedded.map((c) => c.der), ...spec.rawCerts]));
  if (embedded.length > 0) basic.certs = embedded.map((c) => pkijs.Certificate.fromBER(bytes(c.der)));
  return wrapBasic(Buffer.from(basic.toSchema().toBER()));
}

/** A BasicOCSPResponse (without certs) with `certs` [0] EXPLICIT SEQUENCE OF holding exactly these elements. */
export function withCerts(basicDer: Uint8Array, certs: readonly Uint8Array[]): Buffer {
  const body = derContents(basicDer);
  return derTlv(0x30, Buffer.concat([body, derTlv(0xa0, derTlv(0x30, Buffer.concat(certs)))]));
}

/** The contents of one DER element (its header stripped). */
export function derContents(der: Uint8Array): Buffer {
  const first = der[1]!;
  const headerLength = first < 0x80 ? 2 : 2 + (first & 0x7f);
  return Buffer.from(der.subarray(headerLength));
}

/** One DER element: tag, definite minimal length, contents. */
export function derTlv(tag: number, contents: Uint8Array): Buffer {
  const n = contents.length;
  let length: number[];
  if (n < 0x80) length = [n];
  else {
    const bytesOfN: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytesOfN.unshift(v & 0xff);
    length = [0x80 | bytesOfN.length, ...bytesOfN];
  }
  return Buffer.concat([Buffer.from([tag, ...length]), contents]);
}

/** An OCSPResponse around BasicOCSPResponse DER (or any bytes, for fault injection). */
export function wrapBasic(basicDer: Uint8Array, responseType = '1.3.6.1.5.5.7.48.1.1'): Buffer {
  const resp = new pkijs.OCSPResponse({
    responseStatus: new asn1js.Enumerated({ value: 0 }),
    responseBytes: new pkijs.ResponseBytes({ responseType, response: new asn1js.OctetString({ valueHex: bytes(basicDer) }) }),
  });
  return Buffer.from(resp.toSchema().toBER());
}

/** A response with a non-successful status and no body (1 malformedRequest … 6 unauthorized). */
export function statusOnlyResponse(status: number): Buffer {
  return Buffer.from(new pkijs.OCSPResponse({ responseStatus: new asn1js.Enumerated({ value: status }) }).toSchema().toBER());
}

function single(spec: SingleSpec): pkijs.SingleResponse {
  const hash = spec.certIdHash ?? 'sha1';
  const issuer = spec.issuer.cert;
  const h = (data: Uint8Array): ArrayBuffer => bytes(createHash(hash).update(data).digest());
  const serial = spec.serialHex ? Buffer.from(spec.serialHex, 'hex') : Buffer.from(spec.cert.cert.serial);
  const certID = new pkijs.CertID({
    hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: HASH_OIDS[hash], algorithmParams: new asn1js.Null() }),
    issuerNameHash: new asn1js.OctetString({ valueHex: h(issuer.subjectName) }),
    issuerKeyHash: new asn1js.OctetString({ valueHex: h(issuer.publicKeyBits) }),
    serialNumber: new asn1js.Integer({ valueHex: bytes(serial) }),
  });
  const response = new pkijs.SingleResponse({ certID, thisUpdate: seconds(spec.thisUpdate) });
  if (spec.nextUpdate) response.nextUpdate = seconds(spec.nextUpdate);
  const status = spec.status ?? 'good';
  if (status === 'revoked') {
    const inner: asn1js.AsnType[] = [new asn1js.GeneralizedTime({ valueDate: seconds(spec.revocationTime ?? spec.thisUpdate) })];
    if (spec.revocationReason !== undefined) {
      inner.push(new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [new asn1js.Enumerated({ value: spec.revocationReason })] }));
    }
    response.certStatus = new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 1 }, value: inner });
  } else {
    response.certStatus = new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: status === 'good' ? 0 : 2 } });
  }
  if (spec.extensions?.length) response.singleExtensions = spec.extensions.map(toExtension);
  return response;
}

function toExtension(e: ExtensionSpec): pkijs.Extension {
  return new pkijs.Extension({ extnID: e.oid, critical: e.critical ?? false, extnValue: bytes(e.value) });
}

const SIG_OIDS = {
  rsa: { sha1: '1.2.840.113549.1.1.5', sha256: '1.2.840.113549.1.1.11', sha384: '1.2.840.113549.1.1.12', sha512: '1.2.840.113549.1.1.13' },
  ecdsa: { sha1: '1.2.840.10045.4.1', sha256: '1.2.840.10045.4.3.2', sha384: '1.2.840.10045.4.3.3', sha512: '1.2.840.10045.4.3.4' },
} as const;

function signWith(signer: Issued, tbs: Buffer, hashOverride?: HashAlg): { algorithm: pkijs.AlgorithmIdentifier; signature: Buffer } {
  const key = signer.privateKey;
  switch (signer.kind) {
    case 'ed25519':
      return { algorithm: new pkijs.AlgorithmIdentifier({ algorithmId: '1.3.101.112' }), signature: cryptoSign(null, tbs, key) };
    case 'rsa-2048': {
      const hash = hashOverride ?? 'sha256';
      return {
        algorithm: new pkijs.AlgorithmIdentifier({ algorithmId: SIG_OIDS.rsa[hash], algorithmParams: new asn1js.Null() }),
        signature: cryptoSign(hash, tbs, key),
      };
    }
    case 'rsa-pss': {
      const hash = hashOverride ?? 'sha256';
      const hashAlg = new pkijs.AlgorithmIdentifier({ algorithmId: HASH_OIDS[hash], algorithmParams: new asn1js.Null() });
      const params = new pkijs.RSASSAPSSParams({
        hashAlgorithm: hashAlg,
        maskGenAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: '1.2.840.113549.1.1.8', algorithmParams: hashAlg.toSchema() }),
        saltLength: 32,
      });
      return {
        algorithm: new pkijs.AlgorithmIdentifier({ algorithmId: '1.2.840.113549.1.1.10', algorithmParams: params.toSchema() }),
        signature: cryptoSign(hash, tbs, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }),
      };
    }
    default: {
      const natural: HashAlg = signer.kind === 'ec-p384' ? 'sha384' : signer.kind === 'ec-p521' ? 'sha512' : 'sha256';
      const hash = hashOverride ?? natural;
      return { algorithm: new pkijs.AlgorithmIdentifier({ algorithmId: SIG_OIDS.ecdsa[hash] }), signature: cryptoSign(hash, tbs, key) };
    }
  }
}

function seconds(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

function bytes(b: Uint8Array | ArrayBuffer): ArrayBuffer {
  const u = b instanceof Uint8Array ? b : new Uint8Array(b);
  return u.buffer.slice(u.byteOffset, u.byteOffset + u.byteLength) as ArrayBuffer;
}
