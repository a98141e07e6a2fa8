// `npm run demo` says what it expected, and never prints FAIL for an outcome it expects.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = new URL('../..', import.meta.url).pathname;

describe('the demo', () => {
  it('runs on loopback, and every line says whether the outcome was the expected one', async () => {
    const { code, out } = await new Promise<{ code: number; out: string }>((resolve) =>
      execFile(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/demo.ts')], { cwd: ROOT, encoding: 'utf8', timeout: 100_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? Number(err.code) : 0, out: stdout + stderr }),
      ),
    );
    assert.equal(code, 0, out);
    assert.doesNotMatch(out, /FAIL|NOT AS EXPECTED/);
    assert.match(out, /client with "expired": as expected: no staple/);
    // One failure, four hours of validity: the backoff (1 min) is far below the cap (1 h).
    assert.match(out, /exponential backoff: 1m 0s after failure 1/);
    assert.doesNotMatch(out, /capped near expiry/);
    assert.match(out, /8 of 8 checks as expected/);
  });
});
