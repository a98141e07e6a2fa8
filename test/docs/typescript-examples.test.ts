// The TypeScript and JavaScript examples of the docs type-check against Stapler's real API, as a
// user's project compiles them (tagged typecheck and library-metrics), and the library's metrics
// example runs as its own process.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { examples, ROOT, where, type DocExample } from '../support/doc-examples.ts';

/** The example with the package's entry points replaced by the sources. */
function asSource(e: DocExample, dir: string): string {
  const rel = (p: string): string => `'${relative(dir, join(ROOT, p))}'`;
  return e.code.replace(/from 'stapler\/ocsp'/g, `from ${rel('src/ocsp/index.ts')}`).replace(/from 'stapler'/g, `from ${rel('src/index.ts')}`);
}

/** Whether dist/ was built after the last change to src/ (then `stapler` resolves to it, as for a user). */
function distIsFresh(): boolean {
  const built = join(ROOT, 'dist/index.d.ts');
  if (!existsSync(built)) return false;
  let newest = 0;
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  walk(join(ROOT, 'src'));
  return statSync(built).mtimeMs >= newest;
}

describe('the TypeScript examples in the docs', () => {
  // Against dist/'s declarations (as `import 'stapler'` resolves in a user's project) when it is
  // up to date: a few seconds. Otherwise against the sources, which tsc must check too: far slower.
  it("type-check under the project's strict settings", { timeout: 600_000 }, (t) => {
    const blocks = [...examples('typecheck'), ...examples('library-metrics')];
    assert.ok(blocks.length >= 4, `${blocks.length} blocks`);
    mkdirSync(join(ROOT, 'test-output'), { recursive: true });
    const dir = mkdtempSync(join(ROOT, 'test-output', 'doc-examples-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const fromDist = distIsFresh();
    if (!fromDist) t.diagnostic('dist/ is missing or older than src/: checking against the sources (slow); `npm run build` makes it fast');
    const files = blocks.map((e, i) => {
      const file = join(dir, `example-${i}.ts`);
      writeFileSync(file, `${fromDist ? e.code : asSource(e, dir)}\nexport {};\n`);
      return file;
    });
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ extends: join(ROOT, 'tsconfig.json'), compilerOptions: { noEmit: true, rootDir: ROOT }, include: files }),
    );
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')], { cwd: ROOT, encoding: 'utf8' });
    const report = r.stdout.replace(/\S*example-(\d+)\.ts/g, (_m, i: string) => where(blocks[Number(i)]!));
    assert.equal(r.status, 0, report);
  });

  it('the library metrics example runs, and its registry holds the metrics', (t) => {
    const [block] = examples('library-metrics');
    mkdirSync(join(ROOT, 'test-output'), { recursive: true });
    const dir = mkdtempSync(join(ROOT, 'test-output', 'doc-metrics-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'metrics.ts');
    writeFileSync(file, `${asSource(block!, dir)}\nconsole.log(await registry.metrics());\nawait stapler.close();\n`);
    const r = spawnSync(process.execPath, ['--import', 'tsx', file], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, STAPLER_STORE_DIR: join(dir, 'store'), STAPLER_LOG_LEVEL: 'error' },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^# TYPE stapler_build_info gauge$/m);
    assert.match(r.stdout, /^# TYPE stapler_handshakes_total counter$/m);
  });
});
