// Hook programs checked at --check-config time: missing, not executable, not on PATH, a shell line.

import assert from 'node:assert/strict';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkHookPrograms } from '../../src/daemon/alerts/hook-programs.ts';
import { DEFAULT_HOOKS } from '../../src/daemon/alerts/hook-config.ts';
import { checkConfigFiles } from '../../src/daemon/check-config.ts';
import { buildConfig } from '../../src/daemon/config.ts';

describe('hook programs', () => {
  it('accepts executables (by path and on PATH) and names each hook that can never run', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stapler-hooks-'));
    const good = join(dir, 'page');
    const plain = join(dir, 'not-exec');
    await writeFile(good, '#!/bin/sh\n');
    await chmod(good, 0o755);
    await writeFile(plain, '');
    await chmod(plain, 0o644);
    const ok = await checkHookPrograms({ ...DEFAULT_HOOKS, commands: { revoked: [good, '--urgent'], expired: ['page'] } }, dir);
    assert.deepEqual(ok, []);
    const errors = await checkHookPrograms(
      {
        ...DEFAULT_HOOKS,
        commands: { revoked: [plain], expired: ['/usr/local/bin/mail-admins --to ops'], failureStreak: ['no-such-program'], mustStapleAtRisk: [dir] },
      },
      dir,
    );
    assert.deepEqual(
      errors.map((e) => e.message),
      [
        `config key "hooks.revoked": program ${plain} is not executable`,
        'config key "hooks.expired": program /usr/local/bin/mail-admins --to ops does not exist: hooks take a program, not a shell line: put arguments in a list ([program, arg, ...])',
        'config key "hooks.failureStreak": program no-such-program is not an executable file on PATH',
        `config key "hooks.mustStapleAtRisk": program ${dir} is not a regular file`,
      ],
    );
  });

  it('--check-config reports them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stapler-hooks-'));
    const config = buildConfig({ certificates: [join(dir, '*.pem')], hooks: { revoked: '/no/such/page-oncall --urgent' } }, dir);
    const report = await checkConfigFiles(config);
    assert.deepEqual(
      report.errors.map((e) => e.item),
      ['config key "hooks.revoked"'],
    );
    assert.match(report.errors[0]!.reason, /put arguments in a list/);
  });
});
