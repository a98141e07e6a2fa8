// docs/daemon.md's responder-mode commands, run as written (tagged responder-curl): `stapler
// daemon --listen` as its own process, then `openssl ocsp` against it, and curl's POST and GET
// with the request openssl makes. Only the port, the configuration's path and the `stapler`
// command (the checkout's source) are changed; the file names are the docs' own.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { example } from '../support/doc-examples.ts';
import { freePort } from '../support/openssl.ts';
import { fullchain, makePki, type TestPki } from '../support/pki.ts';
import { TestResponder } from '../support/responder.ts';
import { runs, startServer } from '../support/server-process.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const missing = ['openssl', 'curl', 'base64'].filter((c) => !runs(c, c === 'openssl' ? ['version'] : ['--version']));
const skip = missing.length > 0 ? `${missing.join(', ')} not installed` : false;

const responder = new TestResponder();
let pki: TestPki;
let dir = '';
before(async () => {
  pki = await makePki({ ocspUrl: await responder.listen() });
  responder.serve(pki);
  dir = await mkdtemp(join(tmpdir(), 'stapler-docs-responder-'));
});
after(async () => {
  await responder.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("docs/daemon.md's responder commands", { skip }, () => {
  it('answer openssl ocsp, and curl by POST and by GET, with the good staple', async (t) => {
    const lines = example('responder-curl', 'docs/daemon.md').code.split('\n');
    const [daemonLine, ...rest] = lines;
    assert.match(daemonLine!, /^stapler daemon --config \/etc\/stapler\/stapler\.yaml --listen 127\.0\.0\.1:8080$/);
    const port = await freePort();
    await writeFile(join(dir, 'site.pem'), fullchain(pki.leaf, pki.intermediate));
    await writeFile(join(dir, 'chain.pem'), pki.intermediate.pem);
    await writeFile(join(dir, 'root.pem'), pki.root.pem);
    await writeFile(join(dir, 'stapler.yaml'), `certificates: [${join(dir, 'site.pem')}]\nstateFile: ${join(dir, 'state', 'state.json')}\n`);

    const args = daemonLine!.replace('/etc/stapler/stapler.yaml', join(dir, 'stapler.yaml')).replace('127.0.0.1:8080', `127.0.0.1:${port}`).split(' ').slice(1);
    const daemon = await startServer(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], /ready: the first fetches are done/);
    t.after(() => daemon.stop());

    const script = rest.join('\n').replaceAll('127.0.0.1:8080', `127.0.0.1:${port}`);
    const r = spawnSync('bash', ['-euo', 'pipefail', '-c', script], { cwd: dir, encoding: 'utf8' });
    const output = `${r.stdout}${r.stderr}`;
    assert.equal(r.status, 0, output);
    assert.match(output, /Response verify OK/);
    assert.match(output, /site\.pem: good/);
    assert.match(output, /Cert Status: good/);
    assert.match(output, new RegExp(`Serial Number: ${pki.leaf.cert.serialHex}`, 'i'));
    // Both curl requests reached the responder as OCSP (POST, then GET), and were answered with the staple.
    const status = await fetch(`http://127.0.0.1:${port}/status.json`).then(
      (res) => res.json() as Promise<{ ocspResponder: { counts: Record<string, number> } }>,
    );
    assert.equal(status.ocspResponder.counts.stapled, 3, JSON.stringify(status.ocspResponder));
  });
});
