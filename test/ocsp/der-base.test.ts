// der-base.ts: the DER reader's error type and tag helpers, as every DER refusal shows them.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ctx, ctxPrim, DerError, hex2 } from '../../src/ocsp/der-base.ts';

describe('DER vocabulary', () => {
  it('DerError names the field, the reason and the byte offset', () => {
    const err = new DerError('tbsResponseData', 'expected tag 0x30', 7);
    assert.equal(err.message, 'tbsResponseData: expected tag 0x30 (at byte 7)');
    assert.equal(err.name, 'DerError');
    assert.equal(String(err), 'DerError: tbsResponseData: expected tag 0x30 (at byte 7)');
    assert.deepEqual([err.field, err.detail, err.offset], ['tbsResponseData', 'expected tag 0x30', 7]);
  });
  it('hex2 writes a tag as two hex digits', () => {
    assert.equal(hex2(0x05), '05');
    assert.equal(hex2(0xa0), 'a0');
  });
  it('context-specific tags, constructed and primitive', () => {
    assert.equal(ctx(0), 0xa0);
    assert.equal(ctx(3), 0xa3);
    assert.equal(ctxPrim(0), 0x80);
    assert.equal(ctxPrim(2), 0x82);
  });
});
