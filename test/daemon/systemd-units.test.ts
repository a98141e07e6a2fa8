// The shipped systemd units: systemd-analyze accepts them, and docs/daemon.md shows exactly the
// shipped files (no copy that drifts).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = new URL('../..', import.meta.url).pathname;
const UNITS = [
  'examples/systemd/stapler.service',
  'examples/systemd/nginx.service.d/stapler.conf',
  'examples/systemd/apache2.service.d/stapler.conf',
  'examples/systemd/haproxy.service.d/stapler.conf',
];
const ANALYZE = '/usr/bin/systemd-analyze';

describe('shipped systemd units', () => {
  it('docs/daemon.md shows each shipped file exactly', () => {
    const doc = readFileSync(join(ROOT, 'docs/daemon.md'), 'utf8');
    for (const unit of UNITS) assert.ok(doc.includes('```ini\n' + readFileSync(join(ROOT, unit), 'utf8') + '```'), `${unit} is in docs/daemon.md as shipped`);
  });

  it('the service is Type=notify and the drop-ins order each server after it', () => {
    assert.match(readFileSync(join(ROOT, UNITS[0]!), 'utf8'), /^Type=notify$[\s\S]*^NotifyAccess=all$/m);
    for (const dropIn of UNITS.slice(1)) assert.match(readFileSync(join(ROOT, dropIn), 'utf8'), /^After=stapler\.service$/m);
  });

  it(
    'systemd-analyze verify accepts stapler.service',
    { skip: !existsSync(ANALYZE) && `${ANALYZE} is not installed (Debian: the systemd package)` },
    async () => {
      const { code, out } = await new Promise<{ code: number; out: string }>((resolve) =>
        execFile(ANALYZE, ['verify', join(ROOT, UNITS[0]!)], (err, stdout, stderr) =>
          resolve({ code: err ? Number(err.code ?? 1) : 0, out: `${stdout}${stderr}` }),
        ),
      );
      assert.equal(code, 0, out);
      assert.doesNotMatch(out, /stapler\.service/, `no warning about the unit:\n${out}`);
    },
  );
});
