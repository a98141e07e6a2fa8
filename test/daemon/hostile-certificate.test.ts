// A hostile certificate file (issue 16 item 1): a Must-Staple certificate whose AIA OCSP URL holds
// a NUL byte and whose subject holds terminal escapes, with alert hooks configured. It made
// execFile throw inside the hook runner and the daemon exit 1, on every restart. A real
// `stapler daemon` process must survive it, run the hook with the values escaped, and log the
// certificate's text escaped.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { issue, makePki, fullchain } from '../support/pki.ts';
import { waitFor } from '../support/wait.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

describe('a certificate whose OCSP URL holds a NUL byte, with alert hooks', () => {
  it('does not crash `stapler daemon`: the hooks run with the values escaped, and the log shows the URL and subject escaped', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'stapler-hostile-cert-'));
    const pki = await makePki({ ocspUrl: 'http://127.0.0.1:9/' });
    const evil = await issue({ name: 'evil\u001b[2J\u202e.test', issuer: pki.intermediate, ocspUrls: ['http://a\u0000b/'], mustStaple: true });
    await writeFile(join(dir, 'evil.pem'), fullchain(evil, pki.intermediate));
    // Writes its STAPLER_ environment to a new file per run.
    const hook = join(dir, 'hook.sh');
    await writeFile(hook, `#!/bin/sh\nf=$(mktemp ${dir}/tmp.XXXXXX)\nenv | grep '^STAPLER_' > "$f"\nmv "$f" "$(mktemp ${dir}/run.XXXXXX)"\n`);
    await chmod(hook, 0o755);
    await writeFile(
      join(dir, 'stapler.yaml'),
      [
        `certificates: [${join(dir, 'evil.pem')}]`,
        `storeDir: ${join(dir, 'store')}`,
        `stateFile: ${join(dir, 'state.json')}`,
        'hooks:',
        `  mustStapleAtRisk: ${hook}`,
        `  failureStreak: ${hook}`,
        '  failureStreakThreshold: 1',
        '',
      ].join('\n'),
    );
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'daemon', '--config', join(dir, 'stapler.yaml')], {
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: ROOT,
    });
    let out = '';
    let exit: number | null = null;
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => (exit = code ?? -1));
    t.after(async () => {
      if (exit === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
    });
    const runs = async (): Promise<string[]> => (await readdir(dir)).filter((f) => f.startsWith('run.'));
    await waitFor('both hooks to run, or the daemon to exit', async () => exit !== null || (await runs()).length >= 2, 30_000);
    assert.equal(exit, null, `the daemon exited ${exit}:\n${out}`);
    const env = (await Promise.all((await runs()).map((f) => readFile(join(dir, f), 'utf8')))).join('\n');
    assert.match(env, /^STAPLER_LAST_ERROR=fetch-bad-url: http:\/\/a\\x00b\/: /m);
    assert.match(env, /^STAPLER_SUBJECT=O=Stapler Test,CN=evil\\1b\[2J\\e2\\80\\ae\.test$/m);
    // The log is JSON: the certificate's text is in it as escapes a reader sees, not as the raw characters.
    const refresh = out.split('\n').find((l) => l.includes('OCSP refresh failed'));
    assert.ok(refresh, out);
    assert.ok(refresh.includes('http://a\\\\x00b/'), refresh);
    assert.ok(!/\\u0000|\\u001b|\u202e/.test(out), 'no raw control character from the certificate in the log');
    // The hook writes its file before it exits; the daemon logs the run once it has exited.
    await waitFor('the hook runs logged', () => /"msg":"alert hook ran"/.test(out));
  });
});
