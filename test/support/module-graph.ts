// The modules a Node process resolves, as the loader saw them: a resolve hook registered ahead of
// the code under test logs each URL. What a CLI command or an entry point loads
// (test/cli/startup.test.ts, test/architecture.test.ts).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Run `node --import tsx <args>` with the hook; its exit code, its stderr and every URL it resolved, in order. */
export function resolvedModules(args: readonly string[]): { status: number | null; stderr: string; resolved: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'stapler-modules-'));
  try {
    const log = join(dir, 'resolved.txt');
    writeFileSync(
      join(dir, 'hook.mjs'),
      `import { appendFileSync } from 'node:fs';\nexport async function resolve(spec, context, next) {\n  const r = await next(spec, context);\n  appendFileSync(${JSON.stringify(log)}, r.url + '\\n');\n  return r;\n}\n`,
    );
    writeFileSync(
      join(dir, 'register.mjs'),
      `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hook.mjs')).href)});\n`,
    );
    writeFileSync(log, '');
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--import', pathToFileURL(join(dir, 'register.mjs')).href, ...args], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { status: run.status, stderr: run.stderr, resolved: readFileSync(log, 'utf8').split('\n').filter(Boolean) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
