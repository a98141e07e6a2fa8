// stapler_build_info names Stapler's real version, for a library user who gives none: from the
// source tree, from the built dist/ (the installed tarball is checked in test/cli/pack.test.ts),
// read from package.json once per process, never at a scrape.

import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import { StaplerMetrics } from '../../src/metrics/metrics.ts';
import { peerSkip } from '../support/peers.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

const buildInfoVersion = (text: string): string | undefined => /^stapler_build_info\{version="([^"]*)"/m.exec(text)?.[1];

describe('stapler_build_info', () => {
  it("names the package's version when the library user gives none", async () => {
    assert.notEqual(VERSION, 'unknown');
    assert.equal(buildInfoVersion(await new StaplerMetrics().text()), VERSION);
  });

  it('names the version given instead, when one is', async () => {
    assert.equal(buildInfoVersion(await new StaplerMetrics({ version: '9.9.9-embedder' }).text()), '9.9.9-embedder');
  });

  it('names it from the built dist/ too (stapler/metrics as it is published)', { skip: peerSkip('dist') }, async () => {
    const published = (await import(pathToFileURL(join(ROOT, 'dist/public/metrics.js')).href)) as { StaplerMetrics: typeof StaplerMetrics };
    assert.equal(buildInfoVersion(await new published.StaplerMetrics().text()), VERSION);
  });

  describe('reading package.json', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stapler-version-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    /** A package tree of its own: package.json with `pkg`, and the version module two levels below it. */
    const tree = (name: string, pkg: object): string => {
      mkdirSync(join(dir, name, 'src/io'), { recursive: true });
      copyFileSync(join(ROOT, 'src/io/package-version.ts'), join(dir, name, 'src/io/package-version.ts'));
      writeFileSync(join(dir, name, 'package.json'), JSON.stringify(pkg));
      return join(dir, name);
    };
    const load = async (root: string): Promise<() => string> =>
      ((await import(pathToFileURL(join(root, 'src/io/package-version.ts')).href)) as { packageVersion: () => string }).packageVersion;

    it('reads it once: a later change to the file is not read again', async () => {
      const root = tree('once', { name: 'stapler', version: '1.2.3' });
      const packageVersion = await load(root);
      assert.equal(packageVersion(), '1.2.3');
      writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'stapler', version: '4.5.6' }));
      assert.equal(packageVersion(), '1.2.3');
    });

    it('says "unknown" when the package.json above is not Stapler\'s, or is missing', async () => {
      assert.equal((await load(tree('other', { name: 'some-bundle', version: '7.0.0' })))(), 'unknown');
      const missing = tree('missing', {});
      rmSync(join(missing, 'package.json'));
      assert.equal((await load(missing))(), 'unknown');
    });
  });
});
