// The catalogue of test responses: each built to be acceptable, or to trigger one rejection.
// Used by the verifier's tests, the pkijs parser oracle, and as the fuzzer's seed corpus.

import type { Certificate } from '../../src/ocsp/certificate.ts';
import type { RejectReason, VerifySettings } from '../../src/ocsp/verify.ts';
import { issue, makePki, type Issued, type KeyKind, type TestPki } from './pki.ts';
import { buildResponse, statusOnlyResponse, wrapBasic, type ResponseSpec } from './responses.ts';

export interface Vector {
  readonly name: string;
  readonly der: Buffer;
  readonly cert: Certificate;
  readonly issuer: Certificate;
  readonly settings?: Partial<VerifySettings>;
  /** 'good' or 'revoked' for acceptable responses, else the expected rejection reason. */
  readonly expect: 'good' | 'revoked' | RejectReason;
  /** When false, the bytes are not a well-formed OCSPResponse (pkijs is not asked to parse it). */
  readonly wellFormed?: boolean;
}

const MIN = 60_000;
const HOUR = 60 * MIN;

export interface VectorSet {
  readonly now: number;
  readonly pki: TestPki;
  readonly vectors: readonly Vector[];
}

/** A CA of the given key type with one ECDSA leaf, for the signature-algorithm vectors. */
async function caWithLeaf(kind: KeyKind): Promise<{ ca: Issued; leaf: Issued }> {
  const ca = await issue({ name: `${kind} CA`, kind, ca: true });
  const leaf = await issue({ name: `leaf-of-${kind}.test`, issuer: ca, ocspUrls: ['http://127.0.0.1:9/ocsp'] });
  return { ca, leaf };
}

export async function buildVectors(now = Date.now()): Promise<VectorSet> {
  const pki = await makePki({ ocspUrl: 'http://127.0.0.1:9/ocsp' });
  const { leaf, intermediate, root } = pki;
  const base: ResponseSpec = { cert: leaf, issuer: intermediate, thisUpdate: new Date(now - MIN), nextUpdate: new Date(now + 24 * HOUR) };
  const vectors: Vector[] = [];
  interface AddOptions {
    readonly settings?: Partial<VerifySettings>;
    /** The issuer to verify against, when it differs from the one the CertID names. */
    readonly verifyIssuer?: Issued;
  }
  const add = async (name: string, spec: Partial<ResponseSpec>, expect: Vector['expect'], opts: AddOptions = {}): Promise<void> => {
    const full = { ...base, ...spec };
    const issuer = (opts.verifyIssuer ?? full.issuer).cert;
    vectors.push({ name, der: buildResponse(full), cert: full.cert.cert, issuer, expect, ...(opts.settings ? { settings: opts.settings } : {}) });
  };
  const raw = (name: string, der: Buffer, expect: Vector['expect'], wellFormed = true): void => {
    vectors.push({ name, der, cert: leaf.cert, issuer: intermediate.cert, expect, wellFormed });
  };

  // ---- acceptable ----
  await add('issuer-signed, responder by name', {}, 'good');
  await add('issuer-signed, responder by key', { responderIdBy: 'key' }, 'good');
  await add('revoked with a reason', { status: 'revoked', revocationTime: new Date(now - HOUR), revocationReason: 1 }, 'revoked');
  await add('revoked without a reason', { status: 'revoked', revocationTime: new Date(now - HOUR) }, 'revoked');
  await add('delegated responder, by key', { signer: pki.delegated, responderIdBy: 'key' }, 'good');
  await add('delegated responder, by name, with the chain embedded', { signer: pki.delegated, certs: [pki.delegated, intermediate] }, 'good');
  for (const hash of ['sha256', 'sha384', 'sha512'] as const) await add(`CertID with ${hash}`, { certIdHash: hash }, 'good');
  await add('no nextUpdate, fresh', { nextUpdate: null }, 'good');
  await add('thisUpdate within the skew allowance', { thisUpdate: new Date(now + 4 * MIN) }, 'good');
  await add('ours is the second SingleResponse', { extraSingles: [{ ...base, cert: pki.rsaLeaf }], serialHex: undefined }, 'good');
  await add('unknown non-critical extension', { responseExtensions: [{ oid: '1.2.3.4.5', value: Buffer.from([5, 0]) }] }, 'good');
  const nonce = Buffer.alloc(32, 0x42);
  await add('echoes our nonce', { nonce }, 'good', { settings: { nonce } });
  for (const kind of ['rsa-2048', 'rsa-pss', 'ec-p384', 'ec-p521', 'ed25519'] as const) {
    const { ca, leaf: l } = await caWithLeaf(kind);
    await add(`signed with ${kind}`, { cert: l, issuer: ca }, 'good');
    if (kind === 'rsa-2048') {
      await add('RSA with SHA-384', { cert: l, issuer: ca, signatureHash: 'sha384' }, 'good');
      await add('RSA with SHA-512', { cert: l, issuer: ca, signatureHash: 'sha512' }, 'good');
      await add('RSA with SHA-1, allowed', { cert: l, issuer: ca, signatureHash: 'sha1' }, 'good', { settings: { allowSha1Signatures: true } });
      await add('RSA with SHA-1, refused by default', { cert: l, issuer: ca, signatureHash: 'sha1' }, 'weak-algorithm');
    }
    if (kind === 'ec-p384')
      await add('ECDSA P-384 with a mismatched algorithm label', { cert: l, issuer: ca, signatureAlgorithmOid: '1.2.840.113549.1.1.11' }, 'bad-signature');
  }

  // ---- rejected: one or more per reason ----
  const big = Buffer.alloc(70 * 1024, 1);
  await add(
    'over the size limit',
    { responseExtensions: [{ oid: '1.2.3.4.6', value: Buffer.concat([Buffer.from([0x04, 0x83, 0x01, 0x18, 0x00]), big]) }] },
    'too-large',
  );
  const good = buildResponse(base);
  raw('truncated', good.subarray(0, good.length - 10), 'malformed', false);
  raw('trailing byte', Buffer.concat([good, Buffer.from([0])]), 'malformed', false);
  raw('HTML error page', Buffer.from('<html><body>502 Bad Gateway</body></html>'), 'malformed', false);
  raw('empty', Buffer.alloc(0), 'malformed', false);
  await add('nextUpdate before thisUpdate', { thisUpdate: new Date(now - HOUR), nextUpdate: new Date(now - 2 * HOUR) }, 'malformed');
  raw('status malformedRequest', statusOnlyResponse(1), 'malformed-request');
  raw('status internalError', statusOnlyResponse(2), 'internal-error');
  raw('status tryLater', statusOnlyResponse(3), 'try-later');
  raw('status sigRequired', statusOnlyResponse(5), 'sig-required');
  raw('status unauthorized', statusOnlyResponse(6), 'unauthorized');
  raw('another response type', wrapBasic(Buffer.from([0x30, 0x00]), '1.3.6.1.5.5.7.48.1.99'), 'unsupported-response-type');
  await add(
    'unknown critical response extension',
    { responseExtensions: [{ oid: '1.2.3.4.7', critical: true, value: Buffer.from([5, 0]) }] },
    'unknown-critical-extension',
  );
  await add(
    'unknown critical single extension',
    { extensions: [{ oid: '1.2.3.4.8', critical: true, value: Buffer.from([5, 0]) }] },
    'unknown-critical-extension',
  );
  await add('responder ID names a certificate that is not there', { signer: pki.delegated, certs: [] }, 'signer-not-found');
  await add('delegated responder without the OCSP-signing EKU', { signer: pki.delegatedNoEku }, 'unauthorized-signer');
  await add('delegated responder from another CA', { signer: pki.foreignResponder }, 'unauthorized-signer');
  await add('delegated responder that has expired', { signer: pki.expiredDelegated }, 'unauthorized-signer');
  await add('signed by the root, not the issuer', { signer: root, certs: [root] }, 'unauthorized-signer');
  await add('unknown signature algorithm', { signatureAlgorithmOid: '1.2.840.113549.1.1.4' }, 'unsupported-algorithm');
  await add('corrupted signature', { corruptSignature: true }, 'bad-signature');
  await add('claims to be the issuer, signed with another key', { signer: pki.delegated, responderIdOf: intermediate, certs: [] }, 'bad-signature');
  await add('wrong serial', { serialHex: 'DEADBEEF01' }, 'cert-id-mismatch');
  await add("CertID names the issuer's issuer", { issuer: root, signer: intermediate }, 'cert-id-mismatch', { verifyIssuer: intermediate });
  await add('status unknown', { status: 'unknown' }, 'status-unknown');
  await add('thisUpdate an hour in the future', { thisUpdate: new Date(now + HOUR), nextUpdate: new Date(now + 25 * HOUR) }, 'not-yet-valid');
  await add('nextUpdate has passed', { thisUpdate: new Date(now - 48 * HOUR), nextUpdate: new Date(now - 1000) }, 'expired');
  await add('nextUpdate is now', { thisUpdate: new Date(now - 24 * HOUR), nextUpdate: new Date(now) }, 'expired');
  await add('no nextUpdate and older than the max age', { thisUpdate: new Date(now - 2 * HOUR), nextUpdate: null }, 'stale');
  await add('echoes another nonce', { nonce: Buffer.alloc(32, 1) }, 'nonce-mismatch', { settings: { nonce } });
  await add('echoes no nonce', {}, 'nonce-mismatch', { settings: { nonce } });
  return { now, pki, vectors };
}
