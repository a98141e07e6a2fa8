// One engine for the daemon's life: a SIGHUP storm (100 in about a second, each with a real
// configuration change: timeoutMs, the refresh policy, concurrency) while fetches run and a
// client asks the responder continuously. From the first staple to the stop, no answer for the
// managed certificate may be `unauthorized` or 503: the staples held stay served.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { UNAUTHORIZED } from '../../src/daemon/http/ocsp-route.ts';
import { buildRequest, certIdFor } from '../../src/ocsp/request.ts';
import { verifyResponse } from '../../src/ocsp/verify.ts';
import { freePort } from '../support/openssl.ts';
import { caRig } from '../support/ca-rig.ts';
import { fullchain, type TestPki } from '../support/pki.ts';
import type { TestResponder } from '../support/responder.ts';
import { waitFor } from '../support/wait.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
let pki: TestPki;
let responder: TestResponder;

before(async () => ({ pki, responder } = await caRig()));
after(() => responder.close());

describe('SIGHUP storm', () => {
  it('100 SIGHUPs in a second, with real changes, while fetches run: every answer for the managed certificate is its staple', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'stapler-sighup-'));
    await mkdir(join(dir, 'certs'));
    await writeFile(join(dir, 'certs', 'site.pem'), fullchain(pki.leaf, pki.intermediate));
    const port = await freePort();
    const configFile = join(dir, 'stapler.yaml');
    const config = (i: number): string =>
      [
        `certificates: ["${join(dir, 'certs', '*.pem')}"]`,
        `stateFile: ${join(dir, 'state.json')}`,
        `storeDir: ${join(dir, 'store')}`,
        `listen: 127.0.0.1:${port}`,
        `logLevel: warn`,
        `timeoutMs: ${1_000 + (i % 7) * 100}`,
        `concurrency: ${1 + (i % 3)}`,
        `refresh:\n  refreshFraction: ${i % 2 ? 0.5 : 0.6}\n  floorMs: 100`,
      ].join('\n') + '\n';
    await writeFile(configFile, config(0));
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'daemon', '--config', configFile], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    t.after(() => void child.kill('SIGKILL'));
    await waitFor('the first staple', () => existsSync(join(dir, 'certs', 'site.pem.ocsp')), 20_000);

    const body = buildRequest(certIdFor(pki.leaf.cert, pki.intermediate.cert, 'sha1'));
    const answers: { status: number; body: Buffer }[] = [];
    let asking = true;
    const client = (async () => {
      while (asking) {
        const res = await request(`http://127.0.0.1:${port}/`, { method: 'POST', body, headers: { 'content-type': 'application/ocsp-request' } });
        answers.push({ status: res.statusCode, body: Buffer.from(await res.body.arrayBuffer()) });
      }
    })();
    // Fetches run through the storm: the responder is slow, and SIGUSR1 starts a refresh.
    responder.behaviour = 'hang';
    child.kill('SIGUSR1');
    for (let i = 1; i <= 100; i++) {
      await writeFile(configFile, config(i));
      child.kill('SIGHUP');
      await new Promise((r) => setTimeout(r, 10));
    }
    // The reloads queue up in the daemon: ask until it has answered after the last one.
    const seen = answers.length;
    await waitFor('answers after the storm', () => answers.length > seen + 20, 30_000);
    asking = false;
    await client;
    responder.behaviour = 'good';
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);

    const bad = answers.filter(
      (a) =>
        a.status !== 200 ||
        a.body.equals(UNAUTHORIZED) ||
        !verifyResponse(a.body, { certificate: pki.leaf.cert, issuer: pki.intermediate.cert, now: Date.now() }).ok,
    );
    assert.ok(answers.length > 50, `asked ${answers.length} times`);
    assert.equal(
      bad.length,
      0,
      `${bad.length} of ${answers.length} answers were not the staple (first: ${bad[0]?.status} ${bad[0]?.body.toString('hex').slice(0, 40)})`,
    );
    assert.doesNotMatch(stderr, /configuration refused|reload failed/);
  });
});
