// Signature algorithms: read an AlgorithmIdentifier, then verify with node:crypto.

import { constants, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { DerError, type DerReader, TAG, ctx } from './der.ts';
import { OID } from './oids.ts';

/** A hash algorithm the protocol core knows. */
export type HashName = 'sha1' | 'sha256' | 'sha384' | 'sha512';

/** A signature algorithm the protocol core verifies. */
export type SignatureAlgorithm =
  | { readonly kind: 'rsa-pkcs1'; readonly name: string; readonly hash: HashName }
  | { readonly kind: 'rsa-pss'; readonly name: string; readonly hash: HashName; readonly saltLength: number }
  | { readonly kind: 'ecdsa'; readonly name: string; readonly hash: HashName }
  | { readonly kind: 'ed25519'; readonly name: string }
  | { readonly kind: 'unsupported'; readonly name: string; readonly detail: string };

const SIMPLE: Readonly<Record<string, SignatureAlgorithm>> = {
  [OID.sha1WithRSA]: { kind: 'rsa-pkcs1', name: 'sha1WithRSAEncryption', hash: 'sha1' },
  [OID.sha256WithRSA]: { kind: 'rsa-pkcs1', name: 'sha256WithRSAEncryption', hash: 'sha256' },
  [OID.sha384WithRSA]: { kind: 'rsa-pkcs1', name: 'sha384WithRSAEncryption', hash: 'sha384' },
  [OID.sha512WithRSA]: { kind: 'rsa-pkcs1', name: 'sha512WithRSAEncryption', hash: 'sha512' },
  [OID.ecdsaWithSha1]: { kind: 'ecdsa', name: 'ecdsa-with-SHA1', hash: 'sha1' },
  [OID.ecdsaWithSha256]: { kind: 'ecdsa', name: 'ecdsa-with-SHA256', hash: 'sha256' },
  [OID.ecdsaWithSha384]: { kind: 'ecdsa', name: 'ecdsa-with-SHA384', hash: 'sha384' },
  [OID.ecdsaWithSha512]: { kind: 'ecdsa', name: 'ecdsa-with-SHA512', hash: 'sha512' },
  [OID.ed25519]: { kind: 'ed25519', name: 'Ed25519' },
};

export const HASH_BY_OID: Readonly<Record<string, HashName>> = {
  [OID.sha1]: 'sha1',
  [OID.sha256]: 'sha256',
  [OID.sha384]: 'sha384',
  [OID.sha512]: 'sha512',
};

/** Read an AlgorithmIdentifier for a hash: the OID, and parameters absent or NULL. */
export function readHashAlgorithm(r: DerReader, field: string): { hash: HashName | undefined; oid: string } {
  return r.nested(TAG.SEQUENCE, field, (seq) => {
    const oid = seq.oid(seq.next(field, TAG.OID), field);
    const params = seq.optional(TAG.NULL, field);
    if (params) seq.null(params, field);
    return { hash: HASH_BY_OID[oid], oid };
  });
}

/** Read a signature AlgorithmIdentifier. Unknown algorithms parse, and fail at verification. */
export function readSignatureAlgorithm(r: DerReader, field: string): SignatureAlgorithm {
  return r.nested(TAG.SEQUENCE, field, (seq) => {
    const oid = seq.oid(seq.next(field, TAG.OID), field);
    if (oid === OID.rsassaPss) return seq.nested(TAG.SEQUENCE, `${field}.parameters`, (params) => readPssParams(params, `${field}.parameters`));
    const simple = SIMPLE[oid];
    // RSA PKCS#1 carries NULL parameters; ECDSA and Ed25519 carry none. Accept either form.
    const params = seq.optional(TAG.NULL, field);
    if (params) seq.null(params, field);
    return simple ?? { kind: 'unsupported', name: oid, detail: `signature algorithm ${oid} is not supported` };
  });
}

/** RSASSA-PSS-params (RFC 4055); every [n] wrapper must hold exactly its one element. */
function readPssParams(r: DerReader, field: string): SignatureAlgorithm {
  // RFC 4055 defaults: SHA-1, MGF1 with SHA-1, salt 20, trailer 1.
  const hashField = `${field}.hashAlgorithm`;
  const hashAlg = r.optionalNested(ctx(0), hashField, (inner) => readHashAlgorithm(inner, hashField));
  const hash = hashAlg ? hashAlg.hash : 'sha1';
  const f = `${field}.maskGenAlgorithm`;
  const mgf = r.optionalNested(ctx(1), f, (inner) =>
    inner.nested(TAG.SEQUENCE, f, (seq) => {
      const mgfOid = seq.oid(seq.next(f, TAG.OID), f);
      if (mgfOid !== OID.mgf1) {
        // Parameters of an unknown mask generation function are not ours to read.
        while (!seq.atEnd()) seq.next(f);
        return { oid: mgfOid, hash: undefined };
      }
      return { oid: mgfOid, hash: readHashAlgorithm(seq, f).hash };
    }),
  );
  const saltField = `${field}.saltLength`;
  const saltLength = r.optionalNested(ctx(2), saltField, (inner) => inner.smallUint(inner.next(saltField, TAG.INTEGER), saltField)) ?? 20;
  const trailerField = `${field}.trailerField`;
  const trailerAt = r.offset;
  const trailer = r.optionalNested(ctx(3), trailerField, (inner) => inner.smallUint(inner.next(trailerField, TAG.INTEGER), trailerField)) ?? 1;
  if (trailer !== 1) throw new DerError(trailerField, 'trailer field must be 1', trailerAt);
  if (mgf && mgf.oid !== OID.mgf1) return { kind: 'unsupported', name: 'RSASSA-PSS', detail: `mask generation ${mgf.oid} is not MGF1` };
  const mgfHash = mgf ? mgf.hash : 'sha1';
  if (!hash || hash !== mgfHash) {
    return { kind: 'unsupported', name: 'RSASSA-PSS', detail: 'PSS with an unknown hash or a different MGF1 hash is not supported' };
  }
  return { kind: 'rsa-pss', name: `RSASSA-PSS/${hash}`, hash, saltLength };
}

export type SignatureCheck = { ok: true } | { ok: false; reason: 'bad-signature' | 'unsupported-algorithm' | 'weak-algorithm'; detail: string };

const KEY_TYPES: Readonly<Record<string, readonly string[]>> = {
  'rsa-pkcs1': ['rsa'],
  'rsa-pss': ['rsa', 'rsa-pss'],
  ecdsa: ['ec'],
  ed25519: ['ed25519'],
};

/** Verify `signature` over `data`. Never throws: a key/algorithm mismatch is a failed check. */
export function checkSignature(alg: SignatureAlgorithm, data: Uint8Array, signature: Uint8Array, key: KeyObject, allowSha1: boolean): SignatureCheck {
  const plan = planCheck(alg, key, allowSha1);
  if ('ok' in plan) return plan;
  try {
    return outcome(alg, cryptoVerify(plan.hash, data, plan.key, signature));
  } catch (err) {
    return failure(alg, err);
  }
}

/**
 * The same check as checkSignature, run on libuv's thread pool (node:crypto's callback form):
 * the event loop stays free, and checks started together run in parallel.
 */
export function checkSignatureAsync(
  alg: SignatureAlgorithm,
  data: Uint8Array,
  signature: Uint8Array,
  key: KeyObject,
  allowSha1: boolean,
): Promise<SignatureCheck> {
  const plan = planCheck(alg, key, allowSha1);
  if ('ok' in plan) return Promise.resolve(plan);
  return new Promise((resolve) => {
    try {
      cryptoVerify(plan.hash, data, plan.key, signature, (err, ok) => resolve(err ? failure(alg, err) : outcome(alg, ok)));
    } catch (err) {
      resolve(failure(alg, err));
    }
  });
}

type VerifyKey = KeyObject | { key: KeyObject; padding: number; saltLength: number };

/** What node:crypto is called with, or the failure that needs no call. */
function planCheck(alg: SignatureAlgorithm, key: KeyObject, allowSha1: boolean): { hash: HashName | null; key: VerifyKey } | SignatureCheck {
  if (alg.kind === 'unsupported') return { ok: false, reason: 'unsupported-algorithm', detail: alg.detail };
  if ('hash' in alg && alg.hash === 'sha1' && !allowSha1) {
    return { ok: false, reason: 'weak-algorithm', detail: `${alg.name} uses SHA-1, which is refused unless explicitly allowed` };
  }
  const keyType = key.asymmetricKeyType ?? 'unknown';
  if (!KEY_TYPES[alg.kind]!.includes(keyType)) {
    return { ok: false, reason: 'bad-signature', detail: `${alg.name} signature cannot come from a ${keyType} key` };
  }
  switch (alg.kind) {
    case 'ed25519':
      return { hash: null, key };
    case 'rsa-pss':
      return { hash: alg.hash, key: { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: alg.saltLength } };
    case 'ecdsa':
      // DER-encoded signatures are node:crypto's default (dsaEncoding 'der'); a bare key is cheaper to pass.
      return { hash: alg.hash, key };
    case 'rsa-pkcs1':
      return { hash: alg.hash, key };
  }
}

function outcome(alg: SignatureAlgorithm, ok: boolean): SignatureCheck {
  return ok ? { ok: true } : { ok: false, reason: 'bad-signature', detail: `${alg.name} signature does not verify` };
}

function failure(alg: SignatureAlgorithm, err: unknown): SignatureCheck {
  return { ok: false, reason: 'bad-signature', detail: `${alg.name} signature could not be checked: ${(err as Error).message}` };
}
