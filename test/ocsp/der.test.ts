import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DerBudget, DerError, DerReader, TAG } from '../../src/ocsp/der.ts';

const h = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function readOne(hex: string): { reader: DerReader; tlv: ReturnType<DerReader['next']> } {
  return DerReader.whole(h(hex), 'test');
}

function throwsDer(fn: () => unknown, detail: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof DerError, `expected DerError, got ${String(err)}`);
    assert.match(err.message, detail);
    return true;
  });
}

describe('DER reader: lengths and framing', () => {
  it('reads short and long definite lengths', () => {
    assert.equal(readOne('04 03 616263').tlv.end, 5);
    const long = `04 81 80 ${'00'.repeat(128)}`;
    const { reader, tlv } = readOne(long);
    assert.equal(reader.octets(tlv, 'x').length, 128);
  });
  it('rejects indefinite lengths', () => throwsDer(() => readOne('30 80 0500 0000'), /indefinite/));
  it('rejects non-minimal long-form lengths', () => {
    throwsDer(() => readOne('04 81 03 616263'), /non-minimal length/);
    throwsDer(() => readOne(`04 82 0080 ${'00'.repeat(128)}`), /non-minimal length/);
  });
  it('rejects lengths over four bytes', () => throwsDer(() => readOne('04 85 0000000001 00'), /length too large/));
  it('rejects a length that runs past its container', () => throwsDer(() => readOne('04 05 6162'), /runs past the end/));
  it('rejects trailing bytes after the element', () => throwsDer(() => readOne('0500 00'), /trailing bytes/));
  it('rejects trailing bytes inside a container when finished', () => {
    const { reader, tlv } = readOne('30 04 0500 0500');
    const inner = reader.enter(tlv, 'seq');
    inner.next('first', TAG.NULL);
    throwsDer(() => inner.finish('seq'), /trailing/);
  });
  it('rejects empty input and truncated headers', () => {
    throwsDer(() => DerReader.whole(new Uint8Array(0), 'test'), /empty input/);
    throwsDer(() => readOne('30'), /truncated length/);
    throwsDer(() => readOne('30 82 01'), /truncated length/);
  });
  it('rejects high tag numbers', () => throwsDer(() => readOne('1f 81 00 00'), /high tag/));
  it('checks the expected tag and names the field', () => {
    const whole = readOne('30 02 0500');
    const inner = whole.reader.enter(whole.tlv, 'outer');
    assert.throws(() => inner.next('my.field', TAG.INTEGER), /my\.field: expected tag 0x02, found 0x05/);
  });
  it('refuses to enter a primitive element, and primitive decoders refuse constructed ones', () => {
    const { reader, tlv } = readOne('04 00');
    throwsDer(() => reader.enter(tlv, 'x'), /constructed/);
    const c = readOne('24 00');
    throwsDer(() => c.reader.octets(c.tlv, 'x'), /primitive/);
  });
  it('bounds nesting depth', () => {
    let hex = '0500';
    for (let i = 0; i < 40; i++) {
      const len = hex.length / 2;
      hex = `30 ${len.toString(16).padStart(2, '0')} ${hex}`.replace(/\s/g, '');
      if (len >= 0x80) break;
    }
    const bytes = h(hex);
    assert.throws(() => {
      let { reader, tlv } = DerReader.whole(bytes, 'deep');
      for (;;) {
        const inner = reader.enter(tlv, 'deep');
        tlv = inner.next('deep');
        reader = inner;
      }
    }, /nesting too deep/);
  });
  it('enforces a work budget', () => {
    const budget = new DerBudget(3);
    const { reader, tlv } = DerReader.whole(h('30 08 0500 0500 0500 0500'), 'b', budget);
    const inner = reader.enter(tlv, 'b');
    inner.next('a');
    inner.next('b');
    throwsDer(() => inner.next('c'), /work limit/);
  });
});

describe('DER reader: values', () => {
  it('INTEGER must be minimal and non-empty', () => {
    const ok = readOne('02 02 0080');
    assert.deepEqual([...ok.reader.integerBytes(ok.tlv, 'i')], [0x00, 0x80]);
    const bad1 = readOne('02 02 0001');
    throwsDer(() => bad1.reader.integerBytes(bad1.tlv, 'i'), /non-minimal integer/);
    const bad2 = readOne('02 02 ff80');
    throwsDer(() => bad2.reader.integerBytes(bad2.tlv, 'i'), /non-minimal integer/);
    const empty = readOne('02 00');
    throwsDer(() => empty.reader.integerBytes(empty.tlv, 'i'), /empty integer/);
  });
  it('small unsigned values reject negatives and oversize', () => {
    const neg = readOne('0a 01 ff');
    throwsDer(() => neg.reader.smallUint(neg.tlv, 'e'), /negative/);
    const big = readOne('02 05 0100000000');
    throwsDer(() => big.reader.smallUint(big.tlv, 'e'), /too large/);
    const ok = readOne('0a 01 03');
    assert.equal(ok.reader.smallUint(ok.tlv, 'e'), 3);
  });
  it('BOOLEAN must be 00 or FF', () => {
    const t = readOne('01 01 ff');
    assert.equal(t.reader.boolean(t.tlv, 'b'), true);
    const bad = readOne('01 01 01');
    throwsDer(() => bad.reader.boolean(bad.tlv, 'b'), /0x00 or 0xFF/);
  });
  it('NULL must be empty', () => {
    const bad = readOne('05 01 00');
    throwsDer(() => bad.reader.null(bad.tlv, 'n'), /empty/);
  });
  it('decodes OIDs and rejects non-minimal arcs', () => {
    const ok = readOne('06 08 2b06010505073001');
    assert.equal(ok.reader.oid(ok.tlv, 'o'), '1.3.6.1.5.5.7.48.1');
    const big = readOne('06 03 883703'); // 2.999.3
    assert.equal(big.reader.oid(big.tlv, 'o'), '2.999.3');
    const padded = readOne('06 03 2b8001');
    throwsDer(() => padded.reader.oid(padded.tlv, 'o'), /non-minimal/);
    const truncated = readOne('06 02 2b86');
    throwsDer(() => truncated.reader.oid(truncated.tlv, 'o'), /truncated/);
    const long = readOne(`06 41 ${'2b'.repeat(65)}`);
    throwsDer(() => long.reader.oid(long.tlv, 'o'), /too long/);
  });
  it('BIT STRING: unused bits are bounded and zero', () => {
    const ok = readOne('03 03 00 abcd');
    assert.deepEqual([...ok.reader.bitStringBytes(ok.tlv, 'b')], [0xab, 0xcd]);
    const bad = readOne('03 02 08 00');
    throwsDer(() => bad.reader.bitString(bad.tlv, 'b'), /unused-bits/);
    const nonzero = readOne('03 02 01 01');
    throwsDer(() => nonzero.reader.bitString(nonzero.tlv, 'b'), /must be zero/);
    const partial = readOne('03 02 01 02');
    throwsDer(() => partial.reader.bitStringBytes(partial.tlv, 'b'), /whole bytes/);
  });
  it('reads GeneralizedTime and UTCTime in DER form only', () => {
    const gt = (s: string): Buffer => Buffer.concat([Buffer.from([0x18, s.length]), Buffer.from(s)]);
    const ut = (s: string): Buffer => Buffer.concat([Buffer.from([0x17, s.length]), Buffer.from(s)]);
    const read = (b: Buffer): number => {
      const { reader, tlv } = DerReader.whole(b, 't');
      return reader.time(tlv, 't');
    };
    assert.equal(read(gt('20261121120000Z')), Date.UTC(2026, 10, 21, 12));
    assert.equal(read(gt('20261121120000.5Z')), Date.UTC(2026, 10, 21, 12, 0, 0, 500));
    assert.equal(read(ut('491231235959Z')), Date.UTC(2049, 11, 31, 23, 59, 59));
    assert.equal(read(ut('500101000000Z')), Date.UTC(1950, 0, 1));
    for (const bad of ['20261121120000', '202611211200Z', '20261121120000+0100', '20261121120000.50Z', '20260230120000Z', '20261121250000Z']) {
      assert.throws(() => read(gt(bad)), DerError, bad);
    }
  });
});
