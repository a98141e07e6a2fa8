// Packaging: `npm pack` makes a tarball that installs, offline, into a fresh directory, and
// whose `stapler` command runs. The dependencies come from the npm cache that `npm ci` filled:
// a lockfile built from the checkout's pins lets `npm ci --offline` find them there (a plain
// `npm install --offline <tarball>` needs the registry's package metadata, which is not cached).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { peerSkip } from '../support/peers.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const skip = peerSkip('dist');
if (skip) console.log(`# skipping the packaging test: ${skip}`);

interface LockEntry {
  readonly dev?: boolean;
  readonly link?: boolean;
  readonly dependencies?: Record<string, string>;
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
      for (const f of ['package/LICENSE', 'package/bin/stapler.js', 'package/dist/cli/main.js', 'package/README.md', 'package/docs/daemon.md'])
        assert.ok(listing.includes(f), `${f} is in the tarball`);
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
        bin: own.bin,
        engines: own.engines,
      };
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'app', version: '0.0.0', private: true, dependencies: { [pkg.name]: `file:${name}` } }));
      writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ name: 'app', version: '0.0.0', lockfileVersion: 3, requires: true, packages }));
      execFileSync('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--silent'], { cwd: dir, encoding: 'utf8' });

      const help = execFileSync(join(dir, 'node_modules/.bin/stapler'), ['--help'], { encoding: 'utf8' });
      assert.match(help, /Usage: stapler/);
      assert.match(help, /daemon/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
