// printable.ts: text from a certificate or a peer made safe for a log line, a terminal or a hook's
// environment: every control or disguising character escaped, the rest kept, the length bounded.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { printable, PRINTABLE_MAX_CHARS } from '../../src/ocsp/printable.ts';

describe('printable', () => {
  it('keeps ordinary text as it is', () => {
    assert.equal(printable('ocsp.example.com/a b~é\u00a0Ω\u200d\u202f\u2065\u206a'), 'ocsp.example.com/a b~é\u00a0Ω\u200d\u202f\u2065\u206a');
    assert.equal(printable(''), '');
  });
  it('escapes C0, DEL and C1 control characters as \\xNN', () => {
    assert.equal(printable('a\x00b\x1fc\x7fd\x80e\x9ff\n'), 'a\\x00b\\x1fc\\x7fd\\x80e\\x9ff\\x0a');
  });
  it('escapes line separators and bidirectional controls as \\uNNNN', () => {
    const unsafe = ['\u2028', '\u2029', '\u200e', '\u200f', '\u202a', '\u202e', '\u2066', '\u2069'];
    assert.equal(printable(unsafe.join('.')), '\\u2028.\\u2029.\\u200e.\\u200f.\\u202a.\\u202e.\\u2066.\\u2069');
  });
  it('cuts text over the bound and says how much was cut', () => {
    assert.equal(PRINTABLE_MAX_CHARS, 1024);
    const long = 'x'.repeat(PRINTABLE_MAX_CHARS + 3);
    assert.equal(printable(long), `${'x'.repeat(PRINTABLE_MAX_CHARS)}… (3 more characters)`);
    assert.equal(printable('x'.repeat(PRINTABLE_MAX_CHARS)), 'x'.repeat(PRINTABLE_MAX_CHARS), 'at the bound: whole');
    assert.equal(printable('abcdef', 4), 'abcd… (2 more characters)');
    assert.equal(printable('abcd', 4), 'abcd');
    assert.equal(printable('\x01bc\x02', 3), '\\x01bc… (1 more characters)', 'cut first, then escaped');
  });
});
