// Every YAML example in the README is a configuration the daemon accepts.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseConfig } from '../../src/daemon/config.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
// Prometheus' own files (scrape configuration, alert rules) say so on their first line.
const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((b) => !b.startsWith('# prometheus'));

// Files the examples name under /etc/stapler (read at start: a password file, a CA) exist in a
// scratch directory that stands for it.
const etc = mkdtempSync(join(tmpdir(), 'stapler-readme-etc-'));
writeFileSync(join(etc, 'redis.pass'), 'example\n');
writeFileSync(join(etc, 'redis-ca.pem'), '-----BEGIN CERTIFICATE-----\n');

describe('the README configuration examples', () => {
  after(() => rmSync(etc, { recursive: true, force: true }));
  it('are all accepted', () => {
    assert.ok(blocks.length >= 4, `found ${blocks.length} YAML blocks`);
    for (const [i, yaml] of blocks.entries()) {
      assert.doesNotThrow(
        () => parseConfig(yaml.replaceAll('/etc/stapler/redis', `${etc}/redis`), `README YAML block ${i + 1}`, '/etc/stapler'),
        `block ${i + 1}:\n${yaml}`,
      );
    }
  });
});
