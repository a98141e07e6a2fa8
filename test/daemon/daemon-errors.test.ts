// An error is not an absence: a certificate folder that cannot be read (EACCES, EMFILE) keeps
// the files it held, with their staple files, and says so once when it starts and once when it
// ends. Real failures, in a child process: an unprivileged user with a folder made unreadable,
// and a low `ulimit -n` with every descriptor held.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chown, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fullchain, makePki, type TestPki } from '../support/pki.ts';
import { TestResponder } from '../support/responder.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const CHILD = join(ROOT, 'test/daemon/fixtures/glob-failure-child.ts');
const NOBODY = 65534;
let pki: TestPki;
let responder: TestResponder;

before(async () => {
  responder = new TestResponder();
  pki = await makePki({ ocspUrl: await responder.listen() });
  responder.serve(pki);
});
after(() => responder.close());

interface Seen {
  during: { stapleFile: boolean; state: string[] };
  after: { stapleFile: boolean; state: string[] };
  messages: string[];
}

async function run(mode: 'eacces' | 'emfile', asNobody: boolean): Promise<Seen> {
  const dir = await mkdtemp(join(tmpdir(), `stapler-${mode}-`));
  await mkdir(join(dir, 'certs'));
  await writeFile(join(dir, 'certs', 'site.pem'), fullchain(pki.leaf, pki.intermediate));
  if (asNobody) for (const p of [dir, join(dir, 'certs'), join(dir, 'certs', 'site.pem')]) await chown(p, NOBODY, NOBODY);
  const node = `'${process.execPath}' --import tsx '${CHILD}' '${dir}' ${mode}`;
  // Enough descriptors to start; the child then takes every one left.
  const script = mode === 'emfile' ? `ulimit -n 64 && exec ${node}` : `exec ${node}`;
  const out = await new Promise<string>((resolve, reject) =>
    execFile('/bin/sh', ['-c', script], { cwd: ROOT, ...(asNobody ? { uid: NOBODY, gid: NOBODY } : {}), timeout: 60_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
    ),
  );
  return JSON.parse(out.trim().split('\n').pop()!) as Seen;
}

const count = (messages: string[], pattern: RegExp): number => messages.filter((m) => pattern.test(m)).length;

describe('a certificate folder that cannot be read', () => {
  it(
    'EACCES (a folder made unreadable): keeps the certificate and its staple file, logs once each way',
    { skip: process.getuid?.() !== 0 && 'needs root to run the child as another user' },
    async () => {
      const seen = await run('eacces', true);
      // (The child cannot see into the folder then: only the state tells.)
      assert.deepEqual(seen.during.state, ['stapled'], JSON.stringify(seen.messages));
      assert.deepEqual(seen.after, { stapleFile: true, state: ['stapled'] });
      assert.equal(count(seen.messages, /cannot read the certificate glob/), 1, 'once when it starts (two rescans)');
      assert.equal(count(seen.messages, /can be read again/), 1, 'once when it ends');
      assert.equal(count(seen.messages, /staple file removed|removing its staple file/), 0, 'nothing removed');
      assert.ok(count(seen.messages, /cannot read this certificate file/) <= 1, 'a file that cannot be read is logged once');
    },
  );

  it('EMFILE (every descriptor held under a low ulimit -n): keeps the certificate and its staple file', async () => {
    const seen = await run('emfile', false);
    assert.deepEqual(seen.during, { stapleFile: true, state: ['stapled'] }, JSON.stringify(seen.messages));
    assert.deepEqual(seen.after, { stapleFile: true, state: ['stapled'] });
    assert.equal(count(seen.messages, /cannot read the certificate glob/), 1);
    assert.equal(count(seen.messages, /can be read again/), 1);
    assert.equal(count(seen.messages, /staple file removed|removing its staple file/), 0, 'nothing removed');
  });
});
