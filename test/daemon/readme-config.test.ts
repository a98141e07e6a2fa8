// Every YAML example in the README is a configuration the daemon accepts.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/daemon/config.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
// Prometheus' own files (scrape configuration, alert rules) say so on their first line.
const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((b) => !b.startsWith('# prometheus'));

describe('the README configuration examples', () => {
  it('are all accepted', () => {
    assert.ok(blocks.length >= 4, `found ${blocks.length} YAML blocks`);
    for (const [i, yaml] of blocks.entries()) {
      assert.doesNotThrow(() => parseConfig(yaml, `README YAML block ${i + 1}`, '/etc/stapler'), `block ${i + 1}:\n${yaml}`);
    }
  });
});
