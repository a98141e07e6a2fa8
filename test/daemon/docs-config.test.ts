// Every daemon configuration in the docs (tagged daemon-config) is one the daemon accepts, and
// the lighttpd page's two files name the same staple path.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseConfig } from '../../src/daemon/config.ts';
import { outputsOf } from '../../src/daemon/inputs.ts';
import { example, examples, where } from '../support/doc-examples.ts';

// Files the examples name under /etc/stapler (read at start: a password file, a CA) exist in a
// scratch directory that stands for it.
const etc = mkdtempSync(join(tmpdir(), 'stapler-docs-etc-'));
writeFileSync(join(etc, 'redis.pass'), 'example\n');
writeFileSync(join(etc, 'redis-ca.pem'), '-----BEGIN CERTIFICATE-----\n');

const parse = (yaml: string, label: string): ReturnType<typeof parseConfig> =>
  parseConfig(yaml.replaceAll('/etc/stapler/redis', `${etc}/redis`), label, '/etc/stapler');

describe('the daemon configurations in the docs', () => {
  after(() => rmSync(etc, { recursive: true, force: true }));

  it('are all accepted', () => {
    const blocks = examples('daemon-config');
    assert.ok(blocks.length >= 10, `found ${blocks.length} blocks`);
    for (const e of blocks) assert.doesNotThrow(() => parse(e.code, where(e)), `${where(e)}:\n${e.code}`);
  });

  it("give lighttpd's ssl.stapling-file as the path the daemon writes for ssl.pemfile", () => {
    const config = parse(example('lighttpd-daemon', 'docs/servers/lighttpd.md').code, 'lighttpd');
    const conf = example('lighttpd-conf', 'docs/servers/lighttpd.md').code;
    const pemfile = /^ssl\.pemfile\s*=\s*"([^"]+)"/m.exec(conf)?.[1];
    const stapling = /^ssl\.stapling-file\s*=\s*"([^"]+)"/m.exec(conf)?.[1];
    assert.ok(pemfile && stapling, conf);
    assert.ok(
      config.certificates.some((glob) => new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`).test(pemfile)),
      `${pemfile} matches ${config.certificates.join(', ')}`,
    );
    assert.equal(outputsOf(config, pemfile).stapleFile, stapling);
  });
});
