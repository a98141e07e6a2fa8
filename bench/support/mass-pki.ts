// Many certificates, fast: one template leaf (made by the test PKI) whose serial and host name are
// patched in place (same lengths) and whose TBS is signed again with node:crypto. All leaves share
// one key; each is a real certificate with a valid signature. OCSP responses are made the same
// way: one template, its serial patched, its tbsResponseData signed again.

import { sign } from 'node:crypto';
import { oid, tlv } from '../../src/ocsp/der-writer.ts';
import { buildResponse } from '../../test/support/responses.ts';
import { issue, type Issued } from '../../test/support/pki.ts';

const SERIAL_TEMPLATE = Buffer.from('7a5e5e5e5e5e5e5e', 'hex');
const NAME_TEMPLATE = 'h0000000.test';
const BASIC_OID = oid('1.3.6.1.5.5.7.48.1.1');

export interface MassPki {
  readonly root: Issued;
  readonly intermediate: Issued;
  /** The DER of leaf number i (0 ≤ i < 16,777,216). */
  leafDer(i: number): Buffer;
  /** A good response for leaf i, signed by the intermediate. */
  responseDer(i: number, thisUpdate: Date, nextUpdate: Date): Buffer;
  /** Leaf i's serial, as the responder sees it in a CertID (hex, lower case). */
  serialHex(i: number): string;
  hostName(i: number): string;
}

interface Element {
  readonly start: number;
  readonly contentStart: number;
  readonly end: number;
}

function element(der: Buffer, at: number): Element {
  const first = der[at + 1]!;
  let length = first;
  let header = 2;
  if (first >= 0x80) {
    const n = first & 0x7f;
    length = 0;
    for (let k = 0; k < n; k++) length = length * 256 + der[at + 2 + k]!;
    header = 2 + n;
  }
  return { start: at, contentStart: at + header, end: at + header + length };
}

/** The child elements of a constructed element. */
function children(der: Buffer, parent: Element): Element[] {
  const out: Element[] = [];
  for (let at = parent.contentStart; at < parent.end;) {
    const e = element(der, at);
    out.push(e);
    at = e.end;
  }
  return out;
}

function offsetsOf(haystack: Buffer, needle: Buffer): number[] {
  const found: number[] = [];
  for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + 1)) found.push(at);
  return found;
}

function serialBytes(i: number): Buffer {
  const b = Buffer.from(SERIAL_TEMPLATE);
  b.writeUInt32BE(i, 4);
  b.writeUInt8(0x7a, 0);
  b.fill(0x11, 1, 4);
  return b;
}

export async function makeMassPki(ocspUrl: string): Promise<MassPki> {
  const root = await issue({ name: 'Mass Root', ca: true });
  const intermediate = await issue({ name: 'Mass Intermediate', ca: true, issuer: root });
  const template = await issue({ name: NAME_TEMPLATE, issuer: intermediate, ocspUrls: [ocspUrl], serial: SERIAL_TEMPLATE.toString('hex') });

  // The leaf: SEQUENCE { tbs, algorithm, signature }.
  const certDer = template.der;
  const [tbsEl, algEl] = children(certDer, element(certDer, 0)) as [Element, Element];
  const tbs = Buffer.from(certDer.subarray(tbsEl.start, tbsEl.end));
  const certAlg = Buffer.from(certDer.subarray(algEl.start, algEl.end));
  const serialAt = offsetsOf(tbs, SERIAL_TEMPLATE);
  const nameAt = offsetsOf(tbs, Buffer.from(NAME_TEMPLATE));
  if (serialAt.length !== 1 || nameAt.length < 1) throw new Error('mass-pki: the template leaf is not as expected');

  // The response: OCSPResponse { status, [0] { SEQUENCE { type, OCTET STRING { basic } } } }.
  const now = new Date();
  const responseTemplate = buildResponse({ cert: template, issuer: intermediate, thisUpdate: now, nextUpdate: now });
  const bytesEl = children(responseTemplate, element(responseTemplate, 0))[1]!;
  const inner = children(responseTemplate, children(responseTemplate, bytesEl)[0]!)[1]!;
  const basic = element(responseTemplate, inner.contentStart);
  const [rTbsEl, rAlgEl] = children(responseTemplate, basic) as [Element, Element];
  const rTbs = Buffer.from(responseTemplate.subarray(rTbsEl.start, rTbsEl.end));
  const rAlg = Buffer.from(responseTemplate.subarray(rAlgEl.start, rAlgEl.end));
  const rSerialAt = offsetsOf(rTbs, SERIAL_TEMPLATE);
  // GeneralizedTime values (producedAt, thisUpdate, nextUpdate): 15 bytes each, patched per response.
  const time = (d: Date): Buffer => Buffer.from(`${d.toISOString().slice(0, 19).replace(/[-:T]/g, '')}Z`);
  const timeAt = offsetsOf(rTbs, time(now));
  if (rSerialAt.length !== 1 || timeAt.length !== 3) throw new Error('mass-pki: the template response is not as expected');

  const hostName = (i: number): string => `h${String(i).padStart(7, '0')}.test`;
  return {
    root,
    intermediate,
    hostName,
    serialHex: (i) => serialBytes(i).toString('hex'),
    leafDer(i) {
      const t = Buffer.from(tbs);
      serialBytes(i).copy(t, serialAt[0]);
      const name = Buffer.from(hostName(i));
      for (const at of nameAt) name.copy(t, at);
      const signature = sign('sha256', t, intermediate.privateKey);
      return tlv(0x30, t, certAlg, tlv(0x03, Buffer.from([0]), signature));
    },
    responseDer(i, thisUpdate, nextUpdate) {
      const t = Buffer.from(rTbs);
      serialBytes(i).copy(t, rSerialAt[0]);
      time(thisUpdate).copy(t, timeAt[0]);
      time(thisUpdate).copy(t, timeAt[1]);
      time(nextUpdate).copy(t, timeAt[2]);
      const signature = sign('sha256', t, intermediate.privateKey);
      const basicDer = tlv(0x30, t, rAlg, tlv(0x03, Buffer.from([0]), signature));
      return tlv(0x30, Buffer.from([0x0a, 1, 0]), tlv(0xa0, tlv(0x30, BASIC_OID, tlv(0x04, basicDer))));
    },
  };
}

/** PEM of one DER certificate. */
export function pemOf(der: Buffer): string {
  const b64 = der.toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END CERTIFICATE-----\n`;
}
