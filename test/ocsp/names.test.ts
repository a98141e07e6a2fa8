// Names shown as RFC 4514 text (found by mutation testing, issue 20): multi-valued RDNs, the
// escapes of special and control characters, and malformed input named.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nameToString } from '../../src/ocsp/certificate.ts';
import { DerError, TAG } from '../../src/ocsp/der.ts';
import { oid, sequence, tlv } from '../../src/ocsp/der-writer.ts';

const atv = (type: string, value: string): Buffer => sequence(oid(type), tlv(TAG.UTF8_STRING, Buffer.from(value, 'utf8')));
const name = (...rdns: Buffer[][]): Buffer => sequence(...rdns.map((atvs) => tlv(TAG.SET, ...atvs)));

describe('nameToString', () => {
  it('joins the values of one RDN with +, and RDNs most specific first', () => {
    assert.equal(nameToString(name([atv('2.5.4.6', 'FR')], [atv('2.5.4.3', 'a'), atv('2.5.4.10', 'b')])), 'CN=a+O=b,C=FR');
  });
  it('escapes special characters, a leading # or space and a trailing space', () => {
    assert.equal(nameToString(name([atv('2.5.4.3', 'a,b+c"d\\e<f>g;h=i')])), 'CN=a\\,b\\+c\\"d\\\\e\\<f\\>g\\;h\\=i');
    assert.equal(nameToString(name([atv('2.5.4.3', '#x ')])), 'CN=\\#x\\ ');
  });
  it('writes control and disguising characters as hex pairs of their UTF-8 bytes', () => {
    assert.equal(nameToString(name([atv('2.5.4.3', 'a\x01b\u202ec')])), 'CN=a\\01b\\e2\\80\\aec');
  });
  it('names the input in its errors', () => {
    assert.throws(
      () => nameToString(Buffer.alloc(0)),
      (err: unknown) => err instanceof DerError && err.field === 'Name' && err.detail === 'empty input',
    );
    assert.throws(
      () => nameToString(tlv(TAG.INTEGER, Buffer.from([1]))),
      (err: unknown) => err instanceof DerError && err.field === 'Name' && err.detail === 'expected a constructed element',
    );
  });
});
