// The public API: each subpath in package.json's exports maps to a source entry, every name an
// entry exports has a doc comment (what an editor shows the user), the root stays small, and
// importing the root loads neither optional package (redis, prom-client).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import ts from 'typescript';
import { MissingPackageError, requireOptional } from '../src/io/optional-package.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, { types: string; default: string } | string> };

/** The source entry of each subpath: dist/x.js is built from src/x.ts. */
const entries = Object.entries(pkg.exports)
  .filter((e): e is [string, { types: string; default: string }] => typeof e[1] === 'object')
  .map(([subpath, target]) => ({ subpath, source: join(ROOT, target.default.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts')) }));

function exportedNames(checker: ts.TypeChecker, file: ts.SourceFile): ts.Symbol[] {
  return checker.getExportsOfModule(checker.getSymbolAtLocation(file)!);
}

describe('the public API', () => {
  const program = ts.createProgram(
    entries.map((e) => e.source),
    {
      allowImportingTsExtensions: true,
      noEmit: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      strict: true,
      skipLibCheck: true,
      types: ['node'],
    },
  );
  const checker = program.getTypeChecker();

  it('has a doc comment on every export of every entry point', () => {
    const undocumented: string[] = [];
    for (const { subpath, source } of entries) {
      const file = program.getSourceFile(source);
      assert.ok(file, `${subpath}: ${source} exists`);
      for (const symbol of exportedNames(checker, file)) {
        const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
        if (target.flags & ts.SymbolFlags.ValueModule) continue; // a namespace re-export documents itself by its members
        if (ts.displayPartsToString(target.getDocumentationComment(checker)).trim() === '') undocumented.push(`${subpath}: ${symbol.name}`);
      }
    }
    assert.deepEqual(undocumented, []);
  });

  it('keeps the root to what a library user needs: no engine, Redis, metrics or protocol core', () => {
    const root = program.getSourceFile(entries.find((e) => e.subpath === '.')!.source)!;
    const names = exportedNames(checker, root).map((s) => s.name);
    assert.ok(names.includes('Stapler') && names.includes('MemoryStore') && names.includes('MustStapleError'));
    for (const moved of ['StaplingEngine', 'RedisStore', 'StaplerMetrics', 'HttpFetcher', 'ocsp', 'verifyResponse'])
      assert.ok(!names.includes(moved), `${moved} is not in the root`);
    assert.ok(names.length <= 32, `the root exports ${names.length} names`);
  });

  it('loads neither redis nor prom-client when the root is imported', () => {
    const entry = pathToFileURL(join(ROOT, 'src/index.ts')).href;
    const script = `
      import { createRequire } from 'node:module';
      const m = await import(${JSON.stringify(entry)});
      if (typeof m.Stapler !== 'function') process.exit(3);
      const loaded = Object.keys(createRequire(import.meta.url).cache).filter((p) => /node_modules\\/(redis|@redis|prom-client)\\//.test(p));
      console.log(JSON.stringify(loaded));`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout.trim()), []);
  });

  it('names the package to install, in one line, when an optional one is missing', () => {
    assert.throws(
      () => requireOptional('stapler-test-no-such-package', 'RedisStore'),
      (err: unknown) =>
        err instanceof MissingPackageError &&
        err.message ===
          'RedisStore needs the optional package "stapler-test-no-such-package", which is not installed: run `npm install stapler-test-no-such-package`',
    );
    // A package that is there loads.
    assert.equal(typeof requireOptional<{ Registry: unknown }>('prom-client', 'StaplerMetrics').Registry, 'function');
  });
});
