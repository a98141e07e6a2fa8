// An error is not an absence: a certificate folder that cannot be read (EACCES, EMFILE) keeps
// the files it held, with their staple files, and says so once when it starts and once when it
// ends. Real failures, in a child process: an unprivileged user with a folder made unreadable,
// and a low `ulimit -n` with every descriptor held.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readFile, rename, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildConfig } from '../../src/daemon/config.ts';
import { Daemon } from '../../src/daemon/daemon.ts';
import { verifyResponse } from '../../src/ocsp/verify.ts';
import { childReport, giveToNobody } from '../support/child-report.ts';
import { captureLogger } from '../support/log-capture.ts';
import { caRig } from '../support/ca-rig.ts';
import { fullchain, type TestPki } from '../support/pki.ts';
import { waitFor } from '../support/wait.ts';
import type { TestResponder } from '../support/responder.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const CHILD = join(ROOT, 'test/daemon/fixtures/glob-failure-child.ts');
let pki: TestPki;
let responder: TestResponder;

before(async () => ({ pki, responder } = await caRig()));
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
  if (asNobody) await giveToNobody([dir, join(dir, 'certs'), join(dir, 'certs', 'site.pem')]);
  const node = `'${process.execPath}' --import tsx '${CHILD}' '${dir}' ${mode}`;
  // Enough descriptors to start; the child then takes every one left.
  const script = mode === 'emfile' ? `ulimit -n 64 && exec ${node}` : `exec ${node}`;
  return childReport<Seen>('/bin/sh', ['-c', script], { cwd: ROOT, asNobody });
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

describe('files changed under the daemon', () => {
  let dir: string;
  const daemons: Daemon[] = [];
  after(async () => {
    for (const d of daemons) await d.stop();
  });
  async function start(): Promise<Daemon> {
    dir = await mkdtemp(join(tmpdir(), 'stapler-swap-'));
    await mkdir(join(dir, 'certs'));
    await writeFile(join(dir, 'certs', 'site.pem'), fullchain(pki.leaf, pki.intermediate));
    const config = buildConfig(
      { certificates: [join(dir, 'certs', '*.pem')], stateFile: join(dir, 'state.json'), storeDir: join(dir, 'store'), rescanMs: 3_600_000, timeoutMs: 2_000 },
      dir,
    );
    const daemon = new Daemon(config, { logger: captureLogger().logger });
    daemons.push(daemon);
    return daemon;
  }

  it('a certificate file replaced while it is read (a half-written PEM): the staple stays until the file reads the same broken way twice', async () => {
    const daemon = await start();
    await daemon.start();
    const staple = join(dir, 'certs', 'site.pem.ocsp');
    await waitFor('the staple file', () => existsSync(staple));
    const full = fullchain(pki.leaf, pki.intermediate);
    await writeFile(join(dir, 'certs', 'site.pem'), full.slice(0, Math.floor(full.length / 3)));
    await daemon.rescan();
    assert.ok(existsSync(staple), 'kept through a half-written file');
    assert.equal(daemon.state().files[0]!.state, 'stapled');
    // The writer finishes: nothing was lost.
    await writeFile(join(dir, 'certs', 'site.pem'), full);
    await daemon.rescan();
    assert.ok(existsSync(staple));
    assert.equal(daemon.state().files[0]!.state, 'stapled');
    // Broken for good (the same contents on the next look): then it is unusable.
    await writeFile(join(dir, 'certs', 'site.pem'), 'garbage\n');
    await daemon.rescan();
    await daemon.rescan();
    assert.equal(daemon.state().files[0]!.state, 'unusable');
    await waitFor('the staple file removed', () => !existsSync(staple));
  });

  it('a staple-file path that is a symlink swapped during writes: the link is replaced, never written through', async () => {
    const daemon = await start();
    const victims = [join(dir, 'victim-a'), join(dir, 'victim-b')];
    for (const v of victims) await writeFile(v, 'precious\n');
    const staple = join(dir, 'certs', 'site.pem.ocsp');
    await symlink(victims[0]!, staple);
    let swapping = true;
    const swapper = (async () => {
      for (let i = 0; swapping; i++) {
        const tmp = `${staple}.swap`;
        await symlink(victims[i % 2]!, tmp).catch(() => undefined);
        await rename(tmp, staple).catch(() => undefined);
        await new Promise((r) => setImmediate(r));
      }
    })();
    await daemon.start();
    for (let i = 0; i < 5; i++) await daemon.refreshAll();
    swapping = false;
    await swapper;
    for (const v of victims) assert.equal(await readFile(v, 'utf8'), 'precious\n', `${v} untouched`);
    await daemon.refreshAll();
    assert.ok((await lstat(staple)).isFile(), 'the staple path is a regular file once written');
    assert.ok(verifyResponse(await readFile(staple), { certificate: pki.leaf.cert, issuer: pki.intermediate.cert, now: Date.now() }).ok);
  });
});

describe('--check-config reads the files as the daemon will', () => {
  const run = (config: string): Promise<{ code: number; out: string; err: string }> =>
    new Promise((resolve) =>
      execFile(
        process.execPath,
        ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'daemon', '--config', config, '--check-config'],
        { cwd: ROOT },
        (e, out, err) => resolve({ code: e ? Number(e.code) : 0, out, err }),
      ),
    );

  it('names garbage and a private key named *.pem (the daemon skips them), and an output directory it cannot write', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stapler-check-'));
    await mkdir(join(dir, 'certs'));
    await writeFile(join(dir, 'certs', 'site.pem'), fullchain(pki.leaf, pki.intermediate));
    await writeFile(join(dir, 'certs', 'privkey.pem'), pki.leaf.keyPem);
    const config = join(dir, 'stapler.yaml');
    await writeFile(
      config,
      `certificates: ["${join(dir, 'certs', '*.pem')}"]\nstapleFile: "${dir}/missing/{name}.ocsp"\nstateFile: ${join(dir, 'state.json')}\n`,
    );
    const ok = await run(config);
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.err, /privkey\.pem: not a certificate, the daemon will skip it: .*private key/);
    assert.match(ok.err, /output directory .*missing: the daemon cannot write there \(does not exist\)/);
    await writeFile(join(dir, 'certs', 'garbage.pem'), 'this is not a certificate\n');
    const garbage = await run(config);
    assert.match(garbage.err, /garbage\.pem: not a certificate, the daemon will skip it: .*neither PEM nor DER/);
  });
});
