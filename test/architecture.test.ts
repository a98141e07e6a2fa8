// The layering rules, checked on the source: the protocol core is pure (no I/O, no clock),
// and no layer imports from a layer above it.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { resolvedModules } from './support/module-graph.ts';

const SRC = new URL('../src', import.meta.url).pathname;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)[^'"]*from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
}

/** Which top-level folders of src/ each layer may import from. */
const ALLOWED: Record<string, string[]> = {
  ocsp: ['ocsp'],
  io: ['io', 'ocsp'],
  fetch: ['fetch', 'ocsp'],
  store: ['store', 'io', 'ocsp'],
  engine: ['engine', 'fetch', 'store', 'ocsp'],
  wiring: ['wiring', 'engine', 'fetch', 'store', 'ocsp'],
  metrics: ['metrics', 'engine', 'fetch', 'store', 'io'],
  node: ['node', 'metrics', 'wiring', 'engine', 'ocsp'],
  check: ['check', 'ocsp'],
  daemon: ['daemon', 'check', 'metrics', 'wiring', 'engine', 'fetch', 'store', 'io', 'ocsp'],
  cli: ['cli', 'check', 'daemon', 'metrics', 'node', 'wiring', 'engine', 'fetch', 'store', 'io', 'ocsp'],
};

describe('architecture', () => {
  it('the protocol core reads no clock and does no I/O', () => {
    const offenders: string[] = [];
    for (const file of files(join(SRC, 'ocsp'))) {
      const text = readFileSync(file, 'utf8').replace(/\/\/.*$/gm, '');
      for (const spec of imports(file)) if (spec.startsWith('node:') && spec !== 'node:crypto') offenders.push(`${relative(SRC, file)} imports ${spec}`);
      for (const spec of imports(file)) if (!spec.startsWith('.') && !spec.startsWith('node:')) offenders.push(`${relative(SRC, file)} imports ${spec}`);
      for (const pattern of [/Date\.now\(/, /new Date\(\)/, /performance\.now/, /process\./, /setTimeout|setInterval/, /randomBytes|randomUUID/]) {
        if (pattern.test(text)) offenders.push(`${relative(SRC, file)} uses ${pattern.source}`);
      }
    }
    assert.deepEqual(offenders, []);
  });
  it('the engine chooses no fetcher, store or logger: it imports only their types (the faces wire the defaults)', () => {
    const offenders: string[] = [];
    for (const file of files(join(SRC, 'engine'))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/^\s*import\s+(type\s+)?[^'"]*from\s+['"]([^'"]+)['"]/gm)) {
        const [, typeOnly, spec] = m;
        const pure = spec === '../fetch/url.ts' || spec === '../fetch/staple-fetcher.ts';
        if (!typeOnly && !pure && (spec!.startsWith('../fetch/') || spec!.startsWith('../store/'))) offenders.push(`${relative(SRC, file)} imports ${spec}`);
      }
      if (/from ['"](pino|undici)['"]/.test(text) && !file.endsWith('logger.ts')) offenders.push(`${relative(SRC, file)} imports pino or undici`);
    }
    assert.deepEqual(offenders, []);
  });
  it('no source file is over 400 lines: small modules, each with one job', () => {
    const long = files(SRC)
      .map((file) => ({ file: relative(SRC, file), lines: readFileSync(file, 'utf8').split('\n').length - 1 }))
      .filter((f) => f.lines > 400);
    assert.deepEqual(long, []);
  });
  it('no layer imports from a layer above it', () => {
    const offenders: string[] = [];
    for (const file of files(SRC)) {
      const layer = relative(SRC, file).split('/')[0]!;
      const allowed = ALLOWED[layer];
      if (!allowed) continue;
      for (const spec of imports(file)) {
        if (!spec.startsWith('.')) continue;
        const target = relative(SRC, join(file, '..', spec)).split('/')[0]!;
        if (!allowed.includes(target)) offenders.push(`${relative(SRC, file)} imports ${spec}`);
      }
    }
    assert.deepEqual(offenders, []);
  });
  it("the core stands alone: 'stapler/ocsp' maps to dist/ocsp, and loading it loads nothing outside src/ocsp but node:crypto", () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      exports: Record<string, { types: string; default: string }>;
    };
    assert.deepEqual(pkg.exports['./ocsp'], { types: './dist/ocsp/index.d.ts', default: './dist/ocsp/index.js' });
    // dist/ocsp mirrors src/ocsp (tsconfig.build.json: rootDir src, outDir dist), so the module
    // graph of src/ocsp/index.ts is that of the published entry point. Record every module the
    // loader resolves while importing it, in a separate process.
    const entry = pathToFileURL(join(SRC, 'ocsp', 'index.ts')).href;
    const run = resolvedModules([
      '--input-type=module',
      '-e',
      `const m = await import(${JSON.stringify(entry)}); if (typeof m.verifyResponse !== 'function') process.exit(3);`,
    ]);
    assert.equal(run.status, 0, run.stderr);
    const resolved = [...new Set(run.resolved)];
    const core = pathToFileURL(join(SRC, 'ocsp')).href + '/';
    assert.ok(resolved.includes(entry), `the hook saw no import of the core: ${resolved.join(', ')}`);
    const outside = resolved.filter((url) => url !== entry && !url.startsWith(core) && url !== 'node:crypto');
    assert.deepEqual(outside, []);
  });
});
