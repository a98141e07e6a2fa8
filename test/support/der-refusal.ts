// One assertion for the core's refusals: the bytes are refused with a DerError that names the
// field and says why (an exact detail, or a pattern).

import assert from 'node:assert/strict';
import { DerError } from '../../src/ocsp/der.ts';

export function assertRefused(read: () => unknown, field: string, detail: string | RegExp): void {
  assert.throws(read, (err: unknown) => {
    assert.ok(err instanceof DerError, String(err));
    assert.equal(err.field, field);
    if (typeof detail === 'string') assert.equal(err.detail, detail);
    else assert.match(err.detail, detail);
    return true;
  });
}
