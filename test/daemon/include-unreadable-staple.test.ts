// The nginx include says "on" only while nginx can read the staple file it names. A staple file
// the daemon's user cannot read (EACCES: here made mode 000, with the daemon run as an
// unprivileged user in a child process, since root reads any file) turns its include "off"
// before the next reload, since nginx would refuse the whole reload; the file is kept (an error
// is not an absence), and once it can be read the retry turns the include on again.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { caRig } from '../support/ca-rig.ts';
import { childReport, giveToNobody } from '../support/child-report.ts';
import { fullchain, type TestPki } from '../support/pki.ts';
import type { TestResponder } from '../support/responder.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const CHILD = join(ROOT, 'test/daemon/fixtures/include-eacces-child.ts');
let pki: TestPki;
let responder: TestResponder;

before(async () => ({ pki, responder } = await caRig()));
after(() => responder.close());

interface Seen {
  during: { include: string; stapleFile: boolean; outputs: { kind: string; ok: boolean; error: string | null }[] };
  after: { include: string; outputs: { kind: string; ok: boolean; error: string | null }[] };
  messages: string[];
  /** What a's include said as each reload command ran. */
  reloadsSaw: string[];
}

it(
  'an include naming a staple file that cannot be read (EACCES) goes off before the reload, and on again once it can be read',
  { skip: process.getuid?.() !== 0 && 'needs root to run the child as another user' },
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'stapler-include-eacces-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const certs = join(dir, 'certs');
    await mkdir(certs);
    await writeFile(join(certs, 'a.pem'), fullchain(pki.leaf, pki.intermediate));
    await writeFile(join(certs, 'b.pem'), fullchain(pki.rsaLeaf, pki.intermediate));
    await giveToNobody([dir, certs, join(certs, 'a.pem'), join(certs, 'b.pem')]);
    const seen = await childReport<Seen>(process.execPath, ['--import', 'tsx', CHILD, dir], { cwd: ROOT, asNobody: true });
    const staple = (s: Seen['during'] | Seen['after']) => s.outputs.find((o) => o.kind === 'staple-file');

    assert.match(seen.during.include, /ssl_stapling off;/, 'off before the reload ran');
    assert.equal(seen.during.stapleFile, true, 'the staple file is kept: an error is not an absence');
    assert.equal(staple(seen.during)?.ok, false);
    assert.match(staple(seen.during)?.error ?? '', /permission denied; its nginx include is off until the file is there again/);
    assert.match(seen.after.include, /ssl_stapling on;/);
    assert.equal(staple(seen.after)?.ok, true);
    assert.ok(
      seen.after.outputs.every((o) => o.ok),
      JSON.stringify(seen.after.outputs),
    );
    assert.deepEqual(
      seen.reloadsSaw,
      ['reload: ssl_stapling on', 'reload: ssl_stapling off', 'reload: ssl_stapling on'],
      'the first staples; b removed, a unreadable: off as that reload ran; a readable again',
    );
    const said = (pattern: RegExp): number => seen.messages.filter((m) => pattern.test(m)).length;
    assert.equal(said(/staple file: permission denied; its nginx include is off/), 1, 'logged once when it starts');
    assert.equal(said(/the staple file works again/), 1, 'and once when it ends');
    assert.equal(said(/staple file removed/), 1, "b's only: a's is kept");
  },
);
