// `stapler status` line 1: monitoring tools read it, so it holds the verdict and whole reasons
// only, within 80 columns, and says how many reasons it left out.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { firstLine } from '../../src/cli/commands/status.ts';

describe('stapler status, line 1', () => {
  it('keeps the verdict and whole reasons within 80 columns, then counts the rest', () => {
    const reasons = ['the daemon (pid 4242) is not running', '12 REVOKED', '3,401 no staple', '27 Must-Staple, no staple', '9 refresh failing', '2 unusable'];
    const line = firstLine('CRITICAL', reasons);
    assert.ok(line.length <= 80, line);
    assert.equal(line, 'CRITICAL: the daemon (pid 4242) is not running, 12 REVOKED (+4 more)');
    assert.ok(!line.includes('…'), 'no reason cut in the middle');
    assert.equal(firstLine('OK', ['10 stapled', '0 without an OCSP responder']), 'OK: 10 stapled, 0 without an OCSP responder');
  });
});
