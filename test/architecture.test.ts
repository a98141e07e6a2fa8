// The layering rules, checked on the source: the protocol core is pure (no I/O, no clock),
// and no layer imports from a layer above it.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';

const SRC = new URL('../src', import.meta.url).pathname;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
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
  node: ['node', 'wiring', 'engine', 'ocsp'],
  check: ['check', 'ocsp'],
  daemon: ['daemon', 'wiring', 'engine', 'fetch', 'store', 'io', 'ocsp'],
  cli: ['cli', 'check', 'daemon', 'node', 'wiring', 'engine', 'fetch', 'store', 'io', 'ocsp'],
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
});
