// der.ts at its edges: each length, depth, integer, BOOLEAN, OID and budget rule at the value
// where it turns, the checks of ANY-typed values, and the name-value checks, each with the
// refusal it gives.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DerBudget, DerError, DerReader, TAG } from '../../src/ocsp/der.ts';

const h = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const one = (hex: string, budget?: DerBudget): { reader: DerReader; tlv: ReturnType<DerReader['next']> } => DerReader.whole(h(hex), 'test', budget);

function refused(fn: () => unknown, detail: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof DerError, `expected DerError, got ${String(err)}`);
    assert.equal(err.detail, detail);
    return true;
  });
}

/** `depth` SEQUENCEs around `inner` (short lengths only). */
function nest(depth: number, inner: string): string {
  let hex = inner.replace(/\s/g, '');
  for (let i = 0; i < depth; i++) hex = `30${(hex.length / 2).toString(16).padStart(2, '0')}${hex}`;
  return hex;
}

/** A reader entered `depth` times, over what the innermost SEQUENCE holds. */
function enterTimes(depth: number, inner: string): DerReader {
  let { reader, tlv } = one(nest(depth, inner));
  for (let i = 0; i < depth; i++) {
    reader = reader.enter(tlv, 'deep');
    if (i < depth - 1) tlv = reader.next('deep');
  }
  return reader;
}

describe('DER lengths at their edges', () => {
  it('a header cut after its tag, inside a container, is a truncated length', () => {
    const { reader, tlv } = one('30 04 3001 04 00');
    const inner = reader.enter(tlv, 'outer');
    const seq = inner.enter(inner.next('outer'), 'seq');
    refused(() => seq.next('x'), 'truncated length');
  });
  it('a four-byte length is read (and runs past here); five bytes are too many', () => {
    refused(() => one('04 84 01000000'), 'length 16777216 runs past the end of its container');
    refused(() => one('04 85 0100000000'), 'length too large');
  });
  it('long-form length bytes that end exactly at the end are read, one short is truncated', () => {
    refused(() => one('04 81 80'), 'length 128 runs past the end of its container');
    refused(() => one('04 82 01'), 'truncated length');
  });
});

describe('DER nesting depth', () => {
  it('enters 24 levels, not 25', () => {
    const r = enterTimes(24, '0500');
    assert.equal(r.depth, 24);
    r.null(r.next('x', TAG.NULL), 'x');
    const deeper = enterTimes(24, '3000');
    refused(() => deeper.enter(deeper.next('x'), 'x'), 'nesting too deep');
  });
  it('enterOctets counts as a level too, shares the budget and keeps the whole input offsets', () => {
    const r = enterTimes(23, '04 02 0500');
    const tlv = r.next('ext', TAG.OCTET_STRING);
    const inside = r.enterOctets(tlv, 'ext');
    assert.equal(inside.depth, 24);
    assert.equal(inside.budget, r.budget);
    const n = inside.next('ext');
    assert.equal(n.start, tlv.contentStart);
    const deeper = enterTimes(24, '04 02 0500');
    refused(() => deeper.enterOctets(deeper.next('ext'), 'ext'), 'nesting too deep');
  });
  it('enterOctets refuses a constructed element', () => {
    const { reader, tlv } = one('24 02 0500');
    refused(() => reader.enterOctets(tlv, 'ext'), 'expected a primitive element');
  });
});

describe('DER values at their edges', () => {
  const intOf = (hex: string): number[] => {
    const { reader, tlv } = one(hex);
    return [...reader.integerBytes(tlv, 'i')];
  };
  it('INTEGER: one byte is always minimal; two bytes are minimal unless the first only repeats the sign', () => {
    assert.deepEqual(intOf('02 01 00'), [0x00]);
    assert.deepEqual(intOf('02 01 ff'), [0xff]);
    assert.deepEqual(intOf('02 02 0080'), [0x00, 0x80]);
    assert.deepEqual(intOf('02 02 ff7f'), [0xff, 0x7f]);
    assert.deepEqual(intOf('02 02 0100'), [0x01, 0x00]);
    assert.deepEqual(intOf('02 02 fe80'), [0xfe, 0x80]);
    refused(() => intOf('02 02 007f'), 'non-minimal integer');
    refused(() => intOf('02 02 ff80'), 'non-minimal integer');
    refused(() => intOf('22 01 00'), 'expected a primitive element');
  });
  it('small unsigned values: four bytes read in full, five too large', () => {
    const small = (hex: string): number => {
      const { reader, tlv } = one(hex);
      return reader.smallUint(tlv, 'v');
    };
    assert.equal(small('02 04 7fffffff'), 0x7fffffff);
    assert.equal(small('02 02 0102'), 258);
    assert.equal(small('02 01 00'), 0);
    refused(() => small('02 05 0080000000'), 'value too large');
  });
  it('BOOLEAN: exactly one byte, primitive', () => {
    const bool = (hex: string): boolean => {
      const { reader, tlv } = one(hex);
      return reader.boolean(tlv, 'b');
    };
    assert.equal(bool('01 01 00'), false);
    assert.equal(bool('01 01 ff'), true);
    refused(() => bool('01 02 ffff'), 'boolean must be one byte');
    refused(() => bool('01 00'), 'boolean must be one byte');
    refused(() => bool('21 01 ff'), 'expected a primitive element');
  });
  it('OID: primitive, not empty, up to 64 bytes, arcs minimal and below 2^53', () => {
    const oid = (hex: string, budget?: DerBudget): string => {
      const { reader, tlv } = one(hex, budget);
      return reader.oid(tlv, 'o');
    };
    assert.equal(oid(`06 40 ${'2b'.repeat(64)}`), `1.3${'.43'.repeat(63)}`);
    assert.equal(oid('06 04 2b818001'), '1.3.16385', 'a zero septet inside an arc is not padding');
    assert.equal(oid('06 09 2b 8fffffffffffff 7f'), '1.3.9007199254740991');
    refused(() => oid('06 09 2b 90808080808080 00'), 'object identifier arc too large');
    refused(() => oid('06 02 8001'), 'non-minimal object identifier arc');
    refused(() => oid('06 00'), 'empty object identifier');
    refused(() => oid('26 01 2b'), 'expected a primitive element');
    // The first byte joins two arcs: below 40 the first is 0, below 80 it is 1, then 2.
    assert.equal(oid('06 01 27'), '0.39');
    assert.equal(oid('06 01 28'), '1.0');
    assert.equal(oid('06 01 4f'), '1.39');
    assert.equal(oid('06 01 50'), '2.0');
    assert.equal(oid('06 02 8137'), '2.103');
    // The OID's bytes cost one step each: 1 for the header and 3 for the contents.
    assert.equal(oid('06 03 2b0601', new DerBudget(4)), '1.3.6.1');
    refused(() => oid('06 03 2b0601', new DerBudget(3)), 'parse work limit exceeded');
  });
  it('NULL: empty and primitive', () => {
    const nul = (hex: string): void => {
      const { reader, tlv } = one(hex);
      reader.null(tlv, 'n');
    };
    nul('05 00');
    refused(() => nul('05 01 00'), 'NULL must be empty');
    refused(() => nul('25 00'), 'expected a primitive element');
  });
  it('BIT STRING: primitive, 0 to 7 unused bits, none in an empty one, and unused bits zero', () => {
    const bits = (hex: string): { bits: string; unusedBits: number } => {
      const { reader, tlv } = one(hex);
      const v = reader.bitString(tlv, 'bs');
      return { bits: Buffer.from(v.bits).toString('hex'), unusedBits: v.unusedBits };
    };
    assert.deepEqual(bits('03 01 00'), { bits: '', unusedBits: 0 });
    assert.deepEqual(bits('03 02 00 ff'), { bits: 'ff', unusedBits: 0 });
    assert.deepEqual(bits('03 02 07 80'), { bits: '80', unusedBits: 7 });
    assert.deepEqual(bits('03 03 01 ff fe'), { bits: 'fffe', unusedBits: 1 });
    refused(() => bits('03 00'), 'empty bit string');
    refused(() => bits('03 01 01'), 'bad unused-bits count');
    refused(() => bits('03 02 08 00'), 'bad unused-bits count');
    refused(() => bits('03 02 07 81'), 'unused bits must be zero');
    refused(() => bits('03 02 01 01'), 'unused bits must be zero');
    refused(() => bits('23 02 00 00'), 'expected a primitive element');
  });
  it("a time's bytes cost one step each", () => {
    const time = (budget: DerBudget): number => {
      const { reader, tlv } = one(`18 0f ${Buffer.from('20261121120000Z').toString('hex')}`, budget);
      return reader.time(tlv, 't');
    };
    assert.equal(time(new DerBudget(16)), Date.UTC(2026, 10, 21, 12));
    refused(() => time(new DerBudget(15)), 'parse work limit exceeded');
  });
  it('the work budget allows exactly its steps', () => {
    const b = new DerBudget(2);
    b.spend(2, 'x', 0);
    refused(() => b.spend(1, 'x', 0), 'parse work limit exceeded');
    assert.equal(DerBudget.forInput(10).maxSteps, 296);
  });
});

describe('ANY-typed values', () => {
  const any = (hex: string): ReturnType<DerReader['next']> => {
    const { reader, tlv } = one(`30 ${h(hex).length.toString(16).padStart(2, '0')} ${hex}`);
    const inner = reader.enter(tlv, 'seq');
    const got = inner.any('parameters');
    inner.finish('seq');
    return got;
  };
  it('checks the primitive types by their universal tag', () => {
    refused(() => any('01 01 01'), 'boolean must be 0x00 or 0xFF');
    refused(() => any('02 02 0001'), 'non-minimal integer');
    refused(() => any('0a 02 0001'), 'non-minimal integer');
    refused(() => any('05 01 00'), 'NULL must be empty');
    refused(() => any('06 02 2b86'), 'truncated object identifier');
    refused(() => any('03 02 0101'), 'unused bits must be zero');
    refused(() => any('1e 01 00'), 'BMPString is the wrong length (1 bytes, not a multiple of 2)');
    refused(() => any('1c 02 0000'), 'UniversalString is the wrong length (2 bytes, not a multiple of 4)');
    refused(() => any('0c 01 ff'), 'UTF8String is not valid UTF-8');
  });
  it('passes other values through, and gives their element', () => {
    assert.equal(any('30 03 0101ff').tag, TAG.SEQUENCE);
    assert.equal(any('13 02 ff00').tag, TAG.PRINTABLE_STRING);
    const t = any('05 00');
    assert.deepEqual([t.tag, t.start, t.contentStart, t.end], [TAG.NULL, 2, 4, 4]);
  });
});

describe('name values', () => {
  it('nameValue: string types only, as text', () => {
    const { reader, tlv } = one('0c 02 c3a9');
    assert.equal(reader.nameValue(tlv, 'CN'), 'é');
    const o = one('04 01 41');
    refused(() => o.reader.nameValue(o.tlv, 'CN'), "a name's value must be a string type, found tag 0x04");
  });
  it('checkNameValue: the tag (a constructed one is not a string type), the encoding, and one step a byte', () => {
    const check = (hex: string, budget?: DerBudget): void => {
      const { reader, tlv } = one(hex, budget);
      reader.checkNameValue(tlv, 'CN');
    };
    check('0c 02 c3a9', new DerBudget(3));
    refused(() => check('0c 02 c3a9', new DerBudget(2)), 'parse work limit exceeded');
    refused(() => check('04 01 41'), "a name's value must be a string type, found tag 0x04");
    refused(() => check('2c 00'), "a name's value must be a string type, found tag 0x2c");
    refused(() => check('0c 01 ff'), 'UTF8String is not valid UTF-8');
  });
  it('string: primitive only, and one step a byte', () => {
    const str = (hex: string, budget?: DerBudget): string => {
      const { reader, tlv } = one(hex, budget);
      return reader.string(tlv, 'CN');
    };
    assert.equal(str('13 02 4142', new DerBudget(3)), 'AB');
    refused(() => str('13 02 4142', new DerBudget(2)), 'parse work limit exceeded');
    refused(() => str('2c 00'), 'expected a primitive element');
  });
});
