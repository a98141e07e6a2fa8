// Our DER reader against pkijs on every test vector: both must read the same fields.

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { DerError } from '../../src/ocsp/der.ts';
import { parseResponse, RESPONSE_STATUSES } from '../../src/ocsp/response.ts';
import { buildVectors, type VectorSet } from '../support/vectors.ts';

let set: VectorSet;
before(async () => {
  set = await buildVectors();
});

const hex = (b: ArrayBuffer | Uint8Array): string => Buffer.from(b instanceof Uint8Array ? b : new Uint8Array(b)).toString('hex');

function pkijsView(der: Buffer): Record<string, unknown> {
  const resp = pkijs.OCSPResponse.fromBER(new Uint8Array(der));
  const status = resp.responseStatus.valueBlock.valueDec;
  const out: Record<string, unknown> = { status: RESPONSE_STATUSES[status] };
  if (!resp.responseBytes) return out;
  out.responseType = resp.responseBytes.responseType;
  if (resp.responseBytes.responseType !== '1.3.6.1.5.5.7.48.1.1') return out;
  const basic = pkijs.BasicOCSPResponse.fromBER(new Uint8Array(resp.responseBytes.response.valueBlock.valueHexView));
  const data = basic.tbsResponseData;
  const rid = data.responderID;
  out.responderId =
    rid instanceof pkijs.RelativeDistinguishedNames
      ? { byName: hex(rid.toSchema().toBER()) }
      : { byKey: hex((rid as asn1js.OctetString).valueBlock.valueHexView) };
  out.producedAt = data.producedAt.getTime();
  out.tbs = hex(data.tbsView);
  out.signatureAlgorithm = basic.signatureAlgorithm.algorithmId;
  out.signature = hex(basic.signature.valueBlock.valueHexView);
  out.certs = (basic.certs ?? []).map((c) => hex(c.toSchema().toBER()));
  out.extensions = (data.responseExtensions ?? []).map((e) => [e.extnID, e.critical, hex(e.extnValue.valueBlock.valueHexView)]);
  out.responses = data.responses.map((r) => {
    const tag = (r.certStatus as asn1js.BaseBlock).idBlock.tagNumber;
    let revocation: unknown = null;
    if (tag === 1) {
      const inner = (r.certStatus as asn1js.Constructed).valueBlock.value;
      const time = (inner[0] as asn1js.GeneralizedTime).toDate().getTime();
      const reason = inner[1] ? ((inner[1] as asn1js.Constructed).valueBlock.value[0] as asn1js.Enumerated).valueBlock.valueDec : null;
      revocation = [time, reason];
    }
    return {
      hashOid: r.certID.hashAlgorithm.algorithmId,
      issuerNameHash: hex(r.certID.issuerNameHash.valueBlock.valueHexView),
      issuerKeyHash: hex(r.certID.issuerKeyHash.valueBlock.valueHexView),
      serial: hex(r.certID.serialNumber.valueBlock.valueHexView),
      status: ['good', 'revoked', 'unknown'][tag],
      revocation,
      thisUpdate: r.thisUpdate.getTime(),
      nextUpdate: r.nextUpdate ? r.nextUpdate.getTime() : null,
      extensions: (r.singleExtensions ?? []).map((e) => [e.extnID, e.critical, hex(e.extnValue.valueBlock.valueHexView)]),
    };
  });
  return out;
}

function ourView(der: Buffer): Record<string, unknown> {
  const r = parseResponse(der);
  const out: Record<string, unknown> = { status: r.status };
  if (r.responseType === null) return out;
  out.responseType = r.responseType;
  const b = r.basic;
  if (!b) return out;
  out.responderId = b.responderId.byKey ? { byKey: hex(b.responderId.byKey) } : { byName: hex(b.responderId.byName) };
  out.producedAt = b.producedAt;
  out.tbs = hex(b.tbsResponseData);
  out.signatureAlgorithm = sigOid(der);
  out.signature = hex(b.signature);
  out.certs = b.certs.map(hex);
  out.extensions = b.extensions.map((e) => [e.oid, e.critical, hex(e.value)]);
  out.responses = b.responses.map((s) => ({
    hashOid: s.certId.hashOid,
    issuerNameHash: hex(s.certId.issuerNameHash),
    issuerKeyHash: hex(s.certId.issuerKeyHash),
    serial: hex(s.certId.serial),
    status: s.status,
    revocation: s.status === 'revoked' ? [s.revocationTime, s.revocationReason] : null,
    thisUpdate: s.thisUpdate,
    nextUpdate: s.nextUpdate,
    extensions: s.extensions.map((e) => [e.oid, e.critical, hex(e.value)]),
  }));
  return out;
}

/** Our parser keeps a decoded algorithm; pkijs keeps the OID. Read the OID from pkijs's own walk for a fair comparison. */
function sigOid(der: Buffer): string {
  const resp = pkijs.OCSPResponse.fromBER(new Uint8Array(der));
  return pkijs.BasicOCSPResponse.fromBER(new Uint8Array(resp.responseBytes!.response.valueBlock.valueHexView)).signatureAlgorithm.algorithmId;
}

describe('our parser agrees with pkijs', () => {
  it('on every well-formed test vector', () => {
    let compared = 0;
    for (const v of set.vectors) {
      if (v.wellFormed === false) continue;
      assert.deepEqual(ourView(v.der), pkijsView(v.der), v.name);
      compared++;
    }
    assert.ok(compared >= 40, `compared ${compared} vectors`);
  });
  it('and the signed bytes are exactly the bytes inside the response', () => {
    for (const v of set.vectors) {
      if (v.wellFormed === false) continue;
      const b = parseResponse(v.der).basic;
      if (!b) continue;
      assert.ok(v.der.includes(Buffer.from(b.tbsResponseData)), v.name);
    }
  });
  it('ours refuses every malformed vector with a DerError (stricter than pkijs, which accepts trailing bytes)', () => {
    const malformed = set.vectors.filter((x) => x.wellFormed === false);
    assert.ok(malformed.length >= 4);
    for (const v of malformed) assert.throws(() => parseResponse(v.der), DerError, v.name);
  });
});
