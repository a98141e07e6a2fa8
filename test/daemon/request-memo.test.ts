// The responder's memo of parsed requests: hits, what it keeps, and its bounds.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REQUEST_MEMO_LIMITS, RequestMemo } from '../../src/daemon/http/request-memo.ts';

describe('the memo of parsed OCSP requests', () => {
  it('makes a value once per key, and keeps only what it is told to keep', () => {
    const memo = new RequestMemo<{ ok: boolean }>();
    let made = 0;
    const make = (ok: boolean) => () => (made++, { ok });
    const first = memo.get('Ga', make(true), (v) => v.ok);
    assert.equal(
      memo.get('Ga', make(true), (v) => v.ok),
      first,
    );
    assert.equal(made, 1);
    memo.get('Gbad', make(false), (v) => v.ok);
    memo.get('Gbad', make(false), (v) => v.ok);
    assert.equal(made, 3, 'a malformed request is parsed again each time, never kept');
  });
  it('stays within its entries and key size', () => {
    const memo = new RequestMemo<number>();
    for (let i = 0; i < REQUEST_MEMO_LIMITS.entries * 3; i++) memo.get(`G${i}`, () => i);
    assert.ok(memo.size <= REQUEST_MEMO_LIMITS.entries);
    const before = memo.size;
    memo.get('G'.repeat(REQUEST_MEMO_LIMITS.keyChars + 1), () => 1);
    assert.equal(memo.size, before, 'a key over the size limit is not kept');
  });
});
