// Certificate globs: an error while expanding is "unknown", never "no match" (the daemon would
// forget the certificates and delete their staple files). That is why glob.ts does not use
// Node 22's fs.glob, which turns a failed readdir into no match; the second test pins that down
// on the Nodes that have it, so that a Node whose fs.glob reports errors shows up here.

import assert from 'node:assert/strict';
import * as fsPromises from 'node:fs/promises';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { expandGlob, GlobUnknownError } from '../../src/daemon/glob.ts';

const dir = mkdtempSync(join(tmpdir(), 'stapler-glob-'));
after(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'certs'));
writeFileSync(join(dir, 'certs', 'a.pem'), 'x');
writeFileSync(join(dir, 'certs', 'b.pem'), 'x');
// A directory that cannot be listed, even by root: a symbolic link to itself (ELOOP).
symlinkSync('loop', join(dir, 'loop'));

type GlobFn = (pattern: string) => AsyncIterable<string>;
const nodeGlob = (fsPromises as unknown as { glob?: GlobFn }).glob;

describe('expandGlob', () => {
  it('matches files, and reports a directory it cannot list as unknown (ELOOP), not as no match', async () => {
    assert.deepEqual(await expandGlob(join(dir, 'certs', '*.pem')), [join(dir, 'certs', 'a.pem'), join(dir, 'certs', 'b.pem')]);
    await assert.rejects(expandGlob(join(dir, 'loop', '*.pem')), (err: unknown) => err instanceof GlobUnknownError && err.code === 'ELOOP');
  });

  it('matches regular files and symbolic links to them, not directories, links to directories or dangling links', async () => {
    const d = join(dir, 'kinds');
    mkdirSync(d);
    writeFileSync(join(d, 'file.pem'), 'x');
    mkdirSync(join(d, 'folder.pem'));
    symlinkSync('file.pem', join(d, 'link-to-file.pem'));
    symlinkSync('folder.pem', join(d, 'link-to-folder.pem'));
    symlinkSync('nowhere', join(d, 'dangling.pem'));
    assert.deepEqual(await expandGlob(join(d, '*.pem')), [join(d, 'file.pem'), join(d, 'link-to-file.pem')]);
  });

  it(
    "Node's fs.glob reports that same directory as no match (so glob.ts keeps its own)",
    { skip: nodeGlob ? false : 'runtime: fs.glob needs Node 22+' },
    async () => {
      const found: string[] = [];
      for await (const path of nodeGlob!(join(dir, 'loop', '*.pem'))) found.push(path);
      assert.deepEqual(found, []);
    },
  );
});
