// The example configurations the package ships (examples/*.yaml) are ones the daemon accepts.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/daemon/config.ts';

const dir = new URL('../../examples/', import.meta.url);

describe('the shipped example configurations', () => {
  it('are each accepted by the daemon', () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    assert.ok(files.includes('stapler.yaml'), `examples/ has stapler.yaml: ${files.join(', ')}`);
    for (const f of files) assert.doesNotThrow(() => parseConfig(readFileSync(new URL(f, dir), 'utf8'), `examples/${f}`, '/etc/stapler'), f);
  });
});
