// docs/daemon.md's "Try it on one machine, with a local CA" (tagged try-local-ca), run as a
// new user would: the block as written, by bash, in an empty folder, with `stapler` on PATH (the
// checkout's source) and only the two ports changed. openssl is the CA and its OCSP responder,
// the daemon writes the staple file, openssl s_server staples it, and `stapler check` must say
// OK. Then what the paragraph after it says: the CA killed and the daemon told to refresh, the
// staple file stays; a CA signing with a key of its own is refused, and no staple file is written.
// Each run is its own process group, killed in the test's after-hook (the block's `&` jobs).

import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { example } from '../support/doc-examples.ts';
import { freePort } from '../support/openssl.ts';
import { peerSkip } from '../support/peers.ts';
import { waitFor } from '../support/wait.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const skip = peerSkip('openssl');
if (skip) console.log(`# skipping the local-CA walk-through: ${skip}`);

/** An empty folder, a `stapler` command on PATH, and the block with its ports made free ones. */
async function setUp(): Promise<{ dir: string; env: NodeJS.ProcessEnv; script: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'stapler-try-local-ca-'));
  const bin = join(dir, '.bin');
  await mkdir(bin);
  await writeFile(join(bin, 'stapler'), `#!/bin/sh\nexec "${process.execPath}" --import ${import.meta.resolve('tsx')} ${ROOT}src/cli/main.ts "$@"\n`);
  chmodSync(join(bin, 'stapler'), 0o755);
  const [ca, tls] = [await freePort(), await freePort()];
  const script = example('try-local-ca', 'docs/daemon.md')
    .code.replaceAll(':8888', `:${ca}`)
    .replaceAll('-port 8888', `-port ${ca}`)
    .replaceAll(':8443', `:${tls}`);
  assert.ok(!/8888|8443/.test(script), 'both ports replaced');
  return { dir, env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, STAPLER_STATE_DIR: join(dir, 'unused-state') }, script };
}

/** bash running `script` in `dir` as its own process group; its output so far; the group killed after the test. */
function run(t: TestContext, dir: string, env: NodeJS.ProcessEnv, script: string): { child: ChildProcess; output: () => string } {
  let out = '';
  const child = spawn('bash', ['-e', '-c', script], { cwd: dir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  // After-hooks run in the order they are added: the whole group stops (the daemon writes its
  // state file as it goes), and only then is the folder removed.
  const alive = (): boolean => {
    try {
      process.kill(-child.pid!, 0);
      return true;
    } catch {
      return false;
    }
  };
  t.after(async () => {
    if (alive()) process.kill(-child.pid!, 'SIGTERM');
    await waitFor('the walk-through processes to stop', () => !alive());
  });
  t.after(() => rm(dir, { recursive: true, force: true }));
  return { child, output: () => out };
}

describe("docs/daemon.md's local-CA walk-through", { skip }, () => {
  it('as written: the daemon staples from openssl ocsp, s_server serves it, stapler check says OK; with the CA killed the staple file stays', async (t) => {
    const { dir, env, script } = await setUp();
    const marker = '=== the CA down';
    // The paragraph after the block, in the same shell (its job numbers): the CA killed, the daemon told to refresh.
    const after = `\necho '${marker}'\nkill %1\nkill -USR1 %2\nuntil grep -q stapled-refresh-failing state.json 2>/dev/null; do sleep 0.2; done\nstapler status --state state.json || true\n`;
    const { child, output } = run(t, dir, env, script + after);
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    const [walk = '', down = ''] = output().split(marker);
    assert.equal(code, 0, output());
    assert.match(walk, /valid staple: good/);
    assert.match(walk, /verdict: OK/);
    assert.match(down, /"keeping":"last good response"/, 'the daemon keeps the staple it has');
    assert.match(down, /stapled-refresh-failing/, 'and stapler status says so');
    assert.ok(existsSync(join(dir, 'site.pem.ocsp')), 'the staple file stays');
  });

  it('a CA signing with a key of its own: the daemon logs unauthorized-signer and writes no staple file', async (t) => {
    const { dir, env, script } = await setUp();
    const lines = script.split('\n');
    const upTo = lines.findIndex((l) => l.startsWith('cat site.crt ca.pem'));
    const ocsp = lines.find((l) => l.startsWith('openssl ocsp '))!;
    const daemon = lines.find((l) => l.startsWith('stapler daemon '))!;
    assert.ok(upTo > 0 && ocsp.includes('-rsigner ca.pem -rkey ca.key') && daemon, 'the block has the lines this test changes');
    const other = 'openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=Other -days 30 -keyout other.key -out other.pem';
    const index = lines.find((l) => l.includes('> index.txt'))!;
    const lying = [
      ...lines.slice(0, upTo + 1),
      other,
      index,
      ocsp.replace('-rsigner ca.pem -rkey ca.key', '-rsigner other.pem -rkey other.key'),
      daemon,
      'wait',
    ].join('\n');
    const { output } = run(t, dir, env, lying);
    await waitFor('the daemon refuses the response', () => /unauthorized-signer/.test(output()));
    await waitFor('its first fetch ended', () => /ready: the first fetches are done/.test(output()));
    assert.ok(!existsSync(join(dir, 'site.pem.ocsp')), 'no staple file');
    // The state file is written a moment after a change (its debounce): wait for it to name the refusal.
    const stateFile = join(dir, 'state.json');
    await waitFor('the state file, naming the refusal', () => existsSync(stateFile) && /unauthorized-signer/.test(readFileSync(stateFile, 'utf8')));
    const status = spawnSync('bash', ['-c', 'stapler status --state state.json --json'], { cwd: dir, env, encoding: 'utf8' });
    assert.match(status.stdout, /unauthorized-signer/);
  });
});
