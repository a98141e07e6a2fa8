// der-values.ts: DER times (UTCTime, GeneralizedTime) and strings, each rule at its edge, with
// the exact refusal each bad value gets.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DerError, TAG, type Tlv } from '../../src/ocsp/der-base.ts';
import { checkNameValueTag, checkStringEncoding, decodeString, decodeTime } from '../../src/ocsp/der-values.ts';

const at = (tag: number, start = 7): Tlv => ({ tag, start, contentStart: start + 2, end: start + 2 });
const ascii = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));
const gt = (s: string): number => decodeTime(at(TAG.GENERALIZED_TIME), ascii(s), 'thisUpdate');
const ut = (s: string): number => decodeTime(at(TAG.UTC_TIME), ascii(s), 'thisUpdate');

function refused(fn: () => unknown, message: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof DerError, `expected DerError, got ${String(err)}`);
    assert.equal(err.message, message);
    return true;
  });
}

describe('decodeTime', () => {
  it('reads every field of a GeneralizedTime and a UTCTime', () => {
    assert.equal(gt('20261121123456Z'), Date.UTC(2026, 10, 21, 12, 34, 56));
    assert.equal(ut('261121123456Z'), Date.UTC(2026, 10, 21, 12, 34, 56));
  });
  it('UTCTime years: 50 to 99 are 19xx, 00 to 49 are 20xx', () => {
    assert.equal(ut('000101000000Z'), Date.UTC(2000, 0, 1));
    assert.equal(ut('490101000000Z'), Date.UTC(2049, 0, 1));
    assert.equal(ut('500101000000Z'), Date.UTC(1950, 0, 1));
    assert.equal(ut('990101000000Z'), Date.UTC(1999, 0, 1));
  });
  it('reads fractions of a second, in DER form only', () => {
    assert.equal(gt('20261121123456.5Z'), Date.UTC(2026, 10, 21, 12, 34, 56, 500));
    assert.equal(gt('20261121123456.9Z'), Date.UTC(2026, 10, 21, 12, 34, 56, 900));
    assert.equal(gt('20261121123456.105Z'), Date.UTC(2026, 10, 21, 12, 34, 56, 105));
    assert.equal(gt('20261121123456.1239Z'), Date.UTC(2026, 10, 21, 12, 34, 56, 123), 'cut to milliseconds, not rounded');
    refused(() => gt('20261121123456.Z'), 'thisUpdate: bad GeneralizedTime "20261121123456.Z" (at byte 7)');
    refused(() => gt('20261121123456.50Z'), 'thisUpdate: bad GeneralizedTime "20261121123456.50Z" (at byte 7)');
    refused(() => gt('20261121123456.5'), 'thisUpdate: bad GeneralizedTime "20261121123456.5" (at byte 7)');
    refused(() => ut('261121123456.'), 'thisUpdate: bad UTCTime "261121123456." (at byte 7)');
    // A byte below '0' ends the fraction: it is not skipped over on the way to the Z.
    refused(() => gt('20261121123456.5.Z'), 'thisUpdate: bad GeneralizedTime "20261121123456.5.Z" (at byte 7)');
    refused(() => gt('20261121123456.5+Z'), 'thisUpdate: bad GeneralizedTime "20261121123456.5+Z" (at byte 7)');
  });
  it('refuses the wrong length, a missing Z and trailing bytes', () => {
    refused(() => ut('2611211234Z'), 'thisUpdate: bad UTCTime "2611211234Z" (at byte 7)');
    refused(() => ut('26112112345Z6'), 'thisUpdate: bad UTCTime "26112112345Z6" (at byte 7)');
    refused(() => ut('2611211234567Z'), 'thisUpdate: bad UTCTime "2611211234567Z" (at byte 7)');
    refused(() => ut('2611211234560'), 'thisUpdate: bad UTCTime "2611211234560" (at byte 7)');
    refused(() => gt('2026112112345Z'), 'thisUpdate: bad GeneralizedTime "2026112112345Z" (at byte 7)');
    refused(() => gt('20261121123456+'), 'thisUpdate: bad GeneralizedTime "20261121123456+" (at byte 7)');
    refused(() => gt('20261121123456ZZ'), 'thisUpdate: bad GeneralizedTime "20261121123456ZZ" (at byte 7)');
  });
  it('refuses a non-digit in any field', () => {
    const good = '20261121123456Z';
    for (let k = 0; k < 14; k++) {
      const bad = `${good.slice(0, k)}x${good.slice(k + 1)}`;
      refused(() => gt(bad), `thisUpdate: bad GeneralizedTime "${bad}" (at byte 7)`);
      const slash = `${good.slice(0, k)}/${good.slice(k + 1)}`; // the byte before '0'
      refused(() => gt(slash), `thisUpdate: bad GeneralizedTime "${slash}" (at byte 7)`);
      const colon = `${good.slice(0, k)}:${good.slice(k + 1)}`; // the byte after '9'
      refused(() => gt(colon), `thisUpdate: bad GeneralizedTime "${colon}" (at byte 7)`);
    }
    const goodUtc = '261121123456Z';
    for (let k = 0; k < 12; k++) {
      const bad = `${goodUtc.slice(0, k)}x${goodUtc.slice(k + 1)}`;
      refused(() => ut(bad), `thisUpdate: bad UTCTime "${bad}" (at byte 7)`);
    }
  });
  it('shows a bad time with unprintable bytes replaced and cut at 40 characters', () => {
    const v = Uint8Array.from([...ascii('2026112112345'), 0x01, 0x7f, ...ascii('Z'.repeat(40))]);
    refused(() => decodeTime(at(TAG.GENERALIZED_TIME), v, 'nextUpdate'), `nextUpdate: bad GeneralizedTime "2026112112345??${'Z'.repeat(25)}" (at byte 7)`);
    refused(() => ut('26112112345~Z'), 'thisUpdate: bad UTCTime "26112112345~Z" (at byte 7)');
    refused(() => ut('26112112345 Z'), 'thisUpdate: bad UTCTime "26112112345 Z" (at byte 7)');
  });
  it('refuses fields out of range, and accepts each at its edge', () => {
    const range = 'thisUpdate: time out of range (at byte 7)';
    refused(() => gt('00000000000000Z'), range); // all digits, every field zero: out of range, not malformed
    for (const bad of ['20261321000000Z', '20260021000000Z', '20261100000000Z', '20261121240000Z', '20261121006000Z', '20261121000060Z']) {
      refused(() => gt(bad), range);
    }
    assert.equal(gt('20261231235959Z'), Date.UTC(2026, 11, 31, 23, 59, 59));
    assert.equal(gt('20260101000000Z'), Date.UTC(2026, 0, 1));
  });
  it('knows the length of each month, and leap years', () => {
    const range = 'thisUpdate: time out of range (at byte 7)';
    for (const m of ['01', '03', '05', '07', '08', '10', '12']) assert.equal(gt(`2026${m}31000000Z`), Date.UTC(2026, Number(m) - 1, 31));
    for (const m of ['04', '06', '09', '11']) {
      assert.equal(gt(`2026${m}30000000Z`), Date.UTC(2026, Number(m) - 1, 30));
      refused(() => gt(`2026${m}31000000Z`), range);
    }
    assert.equal(gt('20240229000000Z'), Date.UTC(2024, 1, 29));
    assert.equal(gt('20000229000000Z'), Date.UTC(2000, 1, 29));
    assert.equal(gt('20230228000000Z'), Date.UTC(2023, 1, 28));
    refused(() => gt('20230229000000Z'), range);
    refused(() => gt('19000229000000Z'), range);
    refused(() => gt('20240230000000Z'), range);
  });
  it('refuses a tag that is not a time, naming it', () => {
    refused(() => decodeTime(at(TAG.OCTET_STRING, 3), ascii('20261121123456Z'), 'producedAt'), 'producedAt: expected a time, found tag 0x04 (at byte 3)');
  });
});

describe('decodeString', () => {
  const str = (tag: number, bytes: number[]): string => decodeString(at(tag), Uint8Array.from(bytes), 'CN');
  it('UTF8String: valid UTF-8 only, a byte-order mark kept', () => {
    assert.equal(str(TAG.UTF8_STRING, [0x41, 0xc3, 0xa9]), 'Aé');
    assert.equal(str(TAG.UTF8_STRING, [0xef, 0xbb, 0xbf, 0x41]), '\ufeffA');
    refused(() => str(TAG.UTF8_STRING, [0x41, 0xc3, 0x28]), 'CN: UTF8String is not valid UTF-8 (at byte 7)');
  });
  it('BMPString: big-endian 2-byte units, whole ones only', () => {
    assert.equal(str(TAG.BMP_STRING, [0x00, 0x41, 0x04, 0x10, 0x20, 0xac]), 'A\u0410\u20ac');
    assert.equal(str(TAG.BMP_STRING, []), '');
    refused(() => str(TAG.BMP_STRING, [0x00, 0x41, 0x00]), 'CN: BMPString is the wrong length (3 bytes, not a multiple of 2) (at byte 7)');
  });
  it('UniversalString: big-endian 4-byte code points up to U+10FFFF', () => {
    assert.equal(str(TAG.UNIVERSAL_STRING, [0, 0, 0, 0x41, 0, 0x01, 0xf6, 0x00, 0, 0x10, 0xff, 0xff]), 'A\u{1f600}\u{10ffff}');
    refused(() => str(TAG.UNIVERSAL_STRING, [0, 0, 0x41]), 'CN: UniversalString is the wrong length (3 bytes, not a multiple of 4) (at byte 7)');
    refused(() => str(TAG.UNIVERSAL_STRING, [0, 0, 0, 0x41, 0, 0x11, 0, 0]), 'CN: UniversalString holds an invalid code point 0x110000 (at byte 7)');
    refused(() => str(TAG.UNIVERSAL_STRING, [0xff, 0xff, 0xff, 0xff]), 'CN: UniversalString holds an invalid code point 0xffffffff (at byte 7)');
  });
  it('other string types byte for byte', () => {
    assert.equal(str(TAG.PRINTABLE_STRING, [0x61, 0x62]), 'ab');
    assert.equal(str(TAG.T61_STRING, [0xe9, 0xc3, 0x28]), 'é\u00c3(');
  });
});

describe('checkStringEncoding', () => {
  const check = (tag: number, bytes: number[]): void => checkStringEncoding(at(tag), Uint8Array.from(bytes), 'O');
  it('refuses what decodeString refuses', () => {
    refused(() => check(TAG.UTF8_STRING, [0xc3, 0x28]), 'O: UTF8String is not valid UTF-8 (at byte 7)');
    refused(() => check(TAG.BMP_STRING, [0x00]), 'O: BMPString is the wrong length (1 bytes, not a multiple of 2) (at byte 7)');
    refused(() => check(TAG.UNIVERSAL_STRING, [0, 0x11, 0, 0]), 'O: UniversalString holds an invalid code point 0x110000 (at byte 7)');
  });
  it('accepts what decodeString accepts', () => {
    check(TAG.UTF8_STRING, [0xc3, 0xa9]);
    check(TAG.BMP_STRING, [0x00, 0x41]);
    check(TAG.UNIVERSAL_STRING, [0, 0, 0, 0x41]);
    check(TAG.PRINTABLE_STRING, [0xc3, 0x28, 0x00]);
    check(TAG.IA5_STRING, [0xff]);
  });
});

describe('checkNameValueTag', () => {
  it("accepts the string types a name's value may have", () => {
    for (const tag of [0x0c, 0x12, 0x13, 0x14, 0x15, 0x16, 0x19, 0x1a, 0x1b, 0x1c, 0x1e]) checkNameValueTag(at(tag), 'subject');
  });
  it('refuses any other type, naming its tag', () => {
    refused(() => checkNameValueTag(at(TAG.OCTET_STRING), 'subject'), "subject: a name's value must be a string type, found tag 0x04 (at byte 7)");
    refused(() => checkNameValueTag(at(TAG.SEQUENCE), 'subject'), "subject: a name's value must be a string type, found tag 0x30 (at byte 7)");
  });
});
