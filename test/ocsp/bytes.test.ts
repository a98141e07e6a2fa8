// bytes.ts: the byte helpers of the hot path (comparison, views, owned copies, serials as text).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bytesEqual, ownedCopy, plainView, serialHex } from '../../src/ocsp/bytes.ts';

const u8 = (...b: number[]): Uint8Array => Uint8Array.from(b);

describe('bytesEqual', () => {
  it('compares short arrays byte by byte', () => {
    assert.equal(bytesEqual(u8(1, 2, 3), u8(1, 2, 3)), true);
    assert.equal(bytesEqual(u8(), u8()), true);
    assert.equal(bytesEqual(u8(9, 2, 3), u8(1, 2, 3)), false, 'first byte differs');
    assert.equal(bytesEqual(u8(1, 2, 3), u8(1, 2, 9)), false, 'last byte differs');
    assert.equal(bytesEqual(u8(1, 2), u8(1, 2, 3)), false, 'a prefix is not equal');
    assert.equal(bytesEqual(u8(1, 2, 3), u8(1, 2)), false, 'longer than the other');
  });
  it('compares long arrays (over 64 bytes) too', () => {
    for (const n of [64, 65, 200]) {
      const a = new Uint8Array(n).fill(7);
      const b = new Uint8Array(n).fill(7);
      assert.equal(bytesEqual(a, b), true, `${n} equal bytes`);
      b[n - 1] = 8;
      assert.equal(bytesEqual(a, b), false, `${n} bytes, the last differs`);
      b[n - 1] = 7;
      b[0] = 0;
      assert.equal(bytesEqual(a, b), false, `${n} bytes, the first differs`);
    }
  });
});

describe('plainView', () => {
  it('gives a plain Uint8Array over the same memory for a Buffer', () => {
    const whole = Buffer.from([0, 1, 2, 3, 4, 5]);
    const buf = whole.subarray(2, 5);
    const view = plainView(buf);
    assert.equal(Object.getPrototypeOf(view), Uint8Array.prototype);
    assert.equal(view.buffer, buf.buffer);
    assert.deepEqual([view.byteOffset, view.byteLength], [buf.byteOffset, 3]);
    assert.deepEqual([...view], [2, 3, 4]);
    whole[3] = 99;
    assert.equal(view[1], 99, 'the same memory, not a copy');
  });
  it('returns a plain Uint8Array itself', () => {
    const plain = u8(1, 2);
    assert.equal(plainView(plain), plain);
  });
});

describe('ownedCopy', () => {
  it('copies the bytes into memory of their own, outside the pool', () => {
    const src = Buffer.from('a small buffer from the pool');
    const copy = ownedCopy(src);
    assert.ok(Buffer.isBuffer(copy));
    assert.deepEqual(copy, src);
    assert.notEqual(copy.buffer, src.buffer);
    assert.deepEqual([copy.byteOffset, copy.buffer.byteLength], [0, src.length], 'exactly its own size');
    src[0] = 0;
    assert.equal(copy[0], 'a'.charCodeAt(0), 'a copy, not a view');
  });
});

describe('serialHex', () => {
  it('writes a serial in upper-case hex as openssl does', () => {
    assert.equal(serialHex(u8(0x0a, 0xbc)), '0ABC');
    assert.equal(serialHex(u8(0x12, 0x00)), '1200');
  });
  it('drops the sign-padding zero byte, but not a lone zero', () => {
    assert.equal(serialHex(u8(0x00, 0x80)), '80');
    assert.equal(serialHex(u8(0x00)), '00');
  });
  it('reads only the view it is given', () => {
    const whole = Buffer.from([0xff, 0x00, 0x81, 0x02, 0xff]);
    assert.equal(serialHex(whole.subarray(1, 4)), '8102');
  });
});
