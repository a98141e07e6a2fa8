// scripts/skip-report.ts: the skips of a run are counted from the TAP lines, suites included
// (Node 20 counts none of the tests of a skipped describe), and judged by their reason.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readSkips } from '../scripts/skip-report.ts';

const TAP = `TAP version 13
# Subtest: nginx fed by the daemon
ok 1 - nginx fed by the daemon # SKIP missing peer nginx: nginx is not found
  ---
  duration_ms: 0.9
  type: 'suite'
  ...
# Subtest: outer
    # Subtest: inner
    ok 1 - inner # SKIP runtime: fixed in Node 24
      ---
      duration_ms: 0.1
      ...
    # Subtest: bare
    ok 2 - bare # SKIP
      ---
      duration_ms: 0.1
      ...
    1..2
ok 2 - outer
  ---
  duration_ms: 0.2
  type: 'suite'
  ...
1..2
`;

function judge(tap: string, allow?: string): { status: number | null; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'stapler-skips-'));
  try {
    writeFileSync(join(dir, 'run.tap'), tap);
    const env = { ...process.env, STAPLER_ALLOW_MISSING_PEERS: allow ?? '' };
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/skip-report.ts', join(dir, 'run.tap')], { encoding: 'utf8', env });
    return { status: r.status, out: r.stdout + r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the skip report', () => {
  it('reads skipped suites and tests, at any depth, with their reasons', () => {
    assert.deepEqual(readSkips(TAP), [
      { name: 'nginx fed by the daemon', reason: 'missing peer nginx: nginx is not found', suite: true },
      { name: 'inner', reason: 'runtime: fixed in Node 24', suite: false },
      { name: 'bare', reason: '', suite: false },
    ]);
  });

  it('fails a run that skipped for a missing peer, naming it, unless the opt-out lists it', () => {
    const peerOnly = TAP.split('# Subtest: outer')[0]!;
    const failed = judge(peerOnly);
    assert.equal(failed.status, 1);
    assert.match(failed.out, /missing peer nginx: 1 suite, 0 tests skipped/);
    assert.equal(judge(peerOnly, 'haproxy').status, 1, 'the opt-out names another peer');
    assert.equal(judge(peerOnly, 'haproxy,nginx').status, 0);
    assert.equal(judge(peerOnly, '1').status, 0);
  });

  it('allows a runtime skip and fails a skip that gives no reason', () => {
    const out = judge(TAP, '1');
    assert.equal(out.status, 1);
    assert.match(out.out, /skip without a peer or runtime reason: "bare" # SKIP \(no reason given\)/);
    assert.match(out.out, /runtime skips \(allowed\): 0 suites, 1 test/);
  });
});
