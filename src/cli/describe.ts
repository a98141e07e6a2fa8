// Turning parsed responses and verdicts into JSON and readable text for the CLI.

import { Certificate, nameToString } from '../ocsp/certificate.ts';
import { InputError } from '../ocsp/errors.ts';
import { OID } from '../ocsp/oids.ts';
import type { Extension, OcspResponse, SingleResponse } from '../ocsp/response.ts';
import type { Verdict } from '../ocsp/verify.ts';

export const CRL_REASONS: Readonly<Record<number, string>> = {
  0: 'unspecified',
  1: 'keyCompromise',
  2: 'cACompromise',
  3: 'affiliationChanged',
  4: 'superseded',
  5: 'cessationOfOperation',
  6: 'certificateHold',
  8: 'removeFromCRL',
  9: 'privilegeWithdrawn',
  10: 'aACompromise',
};

const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export interface VerdictJson {
  ok: boolean;
  reason: string | null;
  message: string;
  certStatus: string | null;
  serial: string;
  thisUpdate: string | null;
  nextUpdate: string | null;
  producedAt: string | null;
}

export function verdictJson(v: Verdict): VerdictJson {
  const message = v.ok
    ? v.certStatus === 'revoked'
      ? `acceptable response: certificate REVOKED at ${iso(v.revocationTime)}${v.revocationReason !== null ? ` (${CRL_REASONS[v.revocationReason] ?? v.revocationReason})` : ''}`
      : `acceptable response: certificate good until ${iso(v.validUntil)}`
    : v.message;
  return {
    ok: v.ok,
    reason: v.ok ? null : v.reason,
    message,
    certStatus: v.certStatus,
    serial: v.serial,
    thisUpdate: iso(v.thisUpdate),
    nextUpdate: iso(v.nextUpdate),
    producedAt: iso(v.producedAt),
  };
}

export function responseJson(r: OcspResponse, size: number): Record<string, unknown> {
  const out: Record<string, unknown> = { size, responseStatus: r.status };
  if (r.status !== 'successful') return out;
  out.responseType = r.responseType === OID.ocspBasic ? 'basic' : r.responseType;
  const b = r.basic;
  if (!b) return out;
  Object.assign(out, {
    responderId: b.responderId.byKey ? { byKey: hex(b.responderId.byKey) } : { byName: safeName(b.responderId.byName) },
    producedAt: iso(b.producedAt),
    signatureAlgorithm: b.signatureAlgorithm.name,
    responses: b.responses.map(singleJson),
    extensions: b.extensions.map(extensionJson),
    certs: b.certs.map(certJson),
  });
  return out;
}

function singleJson(s: SingleResponse): Record<string, unknown> {
  return {
    serial: hex(s.certId.serial).toUpperCase(),
    certId: { hashAlgorithm: s.certId.hash ?? s.certId.hashOid, issuerNameHash: hex(s.certId.issuerNameHash), issuerKeyHash: hex(s.certId.issuerKeyHash) },
    certStatus: s.status,
    ...(s.status === 'revoked'
      ? {
          revocationTime: iso(s.revocationTime),
          revocationReason: s.revocationReason === null ? null : (CRL_REASONS[s.revocationReason] ?? s.revocationReason),
        }
      : {}),
    thisUpdate: iso(s.thisUpdate),
    nextUpdate: iso(s.nextUpdate),
    extensions: s.extensions.map(extensionJson),
  };
}

const EXTENSION_NAMES: Readonly<Record<string, string>> = {
  [OID.ocspNonce]: 'nonce',
  [OID.ocspExtendedRevoke]: 'extendedRevoke',
  [OID.crlReason]: 'crlReason',
};

function extensionJson(e: Extension): Record<string, unknown> {
  return { oid: e.oid, name: EXTENSION_NAMES[e.oid] ?? null, critical: e.critical, value: hex(e.value) };
}

function certJson(der: Uint8Array): Record<string, unknown> {
  try {
    const c = new Certificate(der, 'embedded certificate');
    return {
      subject: c.subject,
      issuer: c.issuer,
      serial: c.serialHex,
      notBefore: iso(c.notBefore),
      notAfter: iso(c.notAfter),
      ocspSigning: c.hasExtKeyUsage(OID.kpOcspSigning),
    };
  } catch (err) {
    if (err instanceof InputError) return { error: err.message };
    throw err;
  }
}

function safeName(der: Uint8Array): string {
  try {
    return nameToString(der);
  } catch {
    return `(unreadable name ${hex(der)})`;
  }
}

/** The readable dump of `stapler inspect`. */
export function responseText(r: OcspResponse, size: number): string {
  const lines = [`OCSP response, ${size} bytes`, `  response status: ${r.status}`];
  if (r.status !== 'successful') return lines.join('\n');
  lines.push(`  response type:   ${r.responseType === OID.ocspBasic ? 'basic' : (r.responseType ?? '(none)')}`);
  const b = r.basic;
  if (!b) return lines.join('\n');
  const id = b.responderId;
  lines.push(
    `  responder ID:    ${id.byKey ? `by key ${hex(id.byKey)}` : `by name ${safeName(id.byName)}`}`,
    `  produced at:     ${iso(b.producedAt)}`,
    `  signature:       ${b.signatureAlgorithm.name}`,
  );
  for (const e of b.extensions) lines.push(`  extension:       ${extensionText(e)}`);
  lines.push(`  responses:       ${b.responses.length}`);
  b.responses.forEach((s, i) => {
    const c = s.certId;
    let status: string = s.status;
    if (s.status === 'revoked') {
      const reason = s.revocationReason === null ? '' : ` (${CRL_REASONS[s.revocationReason] ?? `reason ${s.revocationReason}`})`;
      status = `revoked at ${iso(s.revocationTime)}${reason}`;
    }
    lines.push(
      `    [${i}] serial ${hex(c.serial).toUpperCase()}`,
      `        cert ID:     ${c.hash ?? c.hashOid} name ${hex(c.issuerNameHash)} key ${hex(c.issuerKeyHash)}`,
      `        status:      ${status}`,
      `        thisUpdate:  ${iso(s.thisUpdate)}`,
      `        nextUpdate:  ${iso(s.nextUpdate) ?? '(none)'}`,
    );
    for (const e of s.extensions) lines.push(`        extension:   ${extensionText(e)}`);
  });
  lines.push(`  certificates:    ${b.certs.length}`);
  b.certs.forEach((der, i) => {
    let c: Certificate;
    try {
      c = new Certificate(der, 'embedded certificate');
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      lines.push(`    [${i}] ${err.message}`);
      return;
    }
    lines.push(
      `    [${i}] ${c.subject}`,
      `        issuer:      ${c.issuer}`,
      `        serial:      ${c.serialHex}`,
      `        valid:       ${iso(c.notBefore)} to ${iso(c.notAfter)}`,
      `        OCSP signing: ${c.hasExtKeyUsage(OID.kpOcspSigning) ? 'yes' : 'no'}`,
    );
  });
  return lines.join('\n');
}

function extensionText(e: Extension): string {
  return `${EXTENSION_NAMES[e.oid] ?? e.oid}${e.critical ? ' (critical)' : ''} ${hex(e.value)}`;
}
