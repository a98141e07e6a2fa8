// oids.ts: the short names a distinguished name shows for its attribute types (RFC 4514, and the
// names OpenSSL prints for the common extras), one by one, and the dotted form for any other type.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nameToString } from '../../src/ocsp/certificate.ts';
import { TAG } from '../../src/ocsp/der.ts';
import { oid, sequence, tlv } from '../../src/ocsp/der-writer.ts';

const rdn = (type: string, value: string): Buffer => tlv(TAG.SET, sequence(oid(type), tlv(TAG.UTF8_STRING, Buffer.from(value, 'utf8'))));

describe('attribute type names', () => {
  it('shows each known attribute type by its short name', () => {
    const known: [string, string][] = [
      ['2.5.4.3', 'CN'],
      ['2.5.4.5', 'serialNumber'],
      ['2.5.4.6', 'C'],
      ['2.5.4.7', 'L'],
      ['2.5.4.8', 'ST'],
      ['2.5.4.9', 'street'],
      ['2.5.4.10', 'O'],
      ['2.5.4.11', 'OU'],
      ['2.5.4.97', 'organizationIdentifier'],
      ['0.9.2342.19200300.100.1.25', 'DC'],
      ['0.9.2342.19200300.100.1.1', 'UID'],
      ['1.2.840.113549.1.9.1', 'emailAddress'],
    ];
    for (const [type, short] of known) assert.equal(nameToString(sequence(rdn(type, 'v'))), `${short}=v`, type);
  });
  it('shows any other attribute type in dotted form', () => {
    assert.equal(nameToString(sequence(rdn('2.5.4.12', 'v'))), '2.5.4.12=v');
  });
});
