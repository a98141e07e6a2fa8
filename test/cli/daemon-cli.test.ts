// `stapler daemon` and `stapler status` as a user runs them: --check-config, SIGHUP, logs,
// exit codes.

import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultStateDir } from '../../src/daemon/paths.ts';
import { defaultLogger } from '../../src/engine/logger.ts';
import { InputError } from '../../src/ocsp/errors.ts';
import { fullchain, makePki, type TestPki } from '../support/pki.ts';
import { TestResponder } from '../support/responder.ts';
import { waitFor } from '../support/wait.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
let pki: TestPki;
let responder: TestResponder;
let dir: string;

function stapler(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args],
      { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env } },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stdout, stderr }),
    );
  });
}

before(async () => {
  responder = new TestResponder();
  pki = await makePki({ ocspUrl: await responder.listen() });
  responder.serve(pki);
  dir = await mkdtemp(join(tmpdir(), 'stapler-daemon-cli-'));
  await mkdir(join(dir, 'certs'));
  await writeFile(join(dir, 'certs', 'site.pem'), fullchain(pki.leaf, pki.intermediate));
});
after(() => responder.close());

describe('stapler daemon (command line)', () => {
  it('says what it needs when run with no arguments', async () => {
    const run = await stapler(['daemon']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /stapler daemon: needs --config <file> or --cert <glob>/);
  });

  it('takes --log-format pretty or json, and names the key when it is neither', async () => {
    const run = await stapler(['daemon', '--cert', join(dir, 'certs', '*.pem'), '--check-config', '--log-format', 'xml']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /config key "logFormat": "xml" is not valid: expected one of pretty, json/);
    assert.equal((await stapler(['daemon', '--cert', join(dir, 'certs', '*.pem'), '--check-config', '--log-format', 'pretty'])).code, 0);
  });

  it('refuses an unknown STAPLER_LOG_LEVEL in one line, in the CLI and the library', async () => {
    const run = await stapler(['daemon', '--cert', join(dir, 'certs', '*.pem'), '--check-config'], { STAPLER_LOG_LEVEL: 'verbose' });
    assert.equal(run.code, 2);
    assert.equal(run.stderr.trim(), 'stapler: STAPLER_LOG_LEVEL: "verbose" is not valid: expected one of fatal, error, warn, info, debug, trace, silent');
    const saved = process.env.STAPLER_LOG_LEVEL;
    process.env.STAPLER_LOG_LEVEL = 'verbose';
    try {
      assert.throws(
        () => defaultLogger(),
        (err: unknown) => err instanceof InputError && err.item === 'STAPLER_LOG_LEVEL',
      );
    } finally {
      if (saved === undefined) delete process.env.STAPLER_LOG_LEVEL;
      else process.env.STAPLER_LOG_LEVEL = saved;
    }
  });

  it('--check-config reports every error in one run, warns about an empty glob, and writes nothing', async () => {
    const config = join(dir, 'bad.yaml');
    await mkdir(join(dir, 'a'));
    await mkdir(join(dir, 'b'));
    await writeFile(join(dir, 'a', 'site.pem'), fullchain(pki.leaf, pki.intermediate));
    await writeFile(join(dir, 'b', 'site.pem'), fullchain(pki.rsaLeaf, pki.intermediate));
    await writeFile(
      config,
      `certificates:\n  - ${dir}/[ab]/*.pem\n  - ${dir}/nowhere/*.pem\nissuer: ${dir}/missing-issuer.pem\nstapleFile: "${dir}/out/{name}.ocsp"\nproxy: https://proxy.example:3128\nnginxInclude: "{cert}.conf"\n`,
    );
    const run = await stapler(['daemon', '--config', config, '--check-config']);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /config key "proxy": "https:\/\/proxy\.example:3128" is not valid: expected a plain-HTTP proxy URL/);
    // The file checks run once the settings themselves are right.
    await writeFile(
      config,
      `certificates:\n  - ${dir}/[ab]/*.pem\n  - ${dir}/nowhere/*.pem\nissuer: ${dir}/missing-issuer.pem\nstapleFile: "${dir}/out/{name}.ocsp"\nnginxInclude: "{cert}.conf"\n`,
    );
    const files = await stapler(['daemon', '--config', config, '--check-config']);
    assert.equal(files.code, 2);
    assert.match(files.stderr, /warning: certificate glob .*nowhere\/\*\.pem matches no file/);
    assert.match(files.stderr, /2 problems:/);
    assert.match(files.stderr, /config key "issuer": .*missing-issuer\.pem: does not exist/);
    assert.match(files.stderr, /b\/site\.pem: would be refused: its staple file .*out\/site\.ocsp is already the output of .*a\/site\.pem/);
    assert.ok(!existsSync(join(dir, 'a', 'site.pem.conf')), '--check-config writes nothing');
    // Keys that are Object's own names are unknown keys here, through the file as through the parser.
    await writeFile(config, `certificates: [${dir}/a/*.pem]\n__proto__: 1\nconstructor: {}\n`);
    const proto = await stapler(['daemon', '--config', config, '--check-config']);
    assert.equal(proto.code, 2);
    assert.match(proto.stderr, /config key "__proto__": is not a known key/);
    assert.match(proto.stderr, /config key "constructor": is not a known key/);
  });

  it('logs a hook that cannot run at start, and starts anyway', async () => {
    const config = join(dir, 'hooks.yaml');
    await writeFile(
      config,
      `certificates: [${dir}/certs/*.pem]\nstateFile: ${dir}/hooks-state.json\nstoreDir: ${dir}/store\nhooks:\n  revoked: /no/such/page-oncall\n`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'daemon', '--config', config, '--log-format', 'json'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor('the start logged', () => /daemon started/.test(out), 20_000);
      const line = out.split('\n').find((l) => l.includes('alert hook cannot run'));
      assert.ok(line, out);
      assert.match(line, /hooks\.revoked/);
      assert.match(line, /\/no\/such\/page-oncall does not exist/);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });

  it('reloads its configuration on SIGHUP, keeps the old one when the new one is bad, and logs ISO times', async () => {
    const config = join(dir, 'stapler.yaml');
    const state = join(dir, 'state.json');
    const base = `stateFile: ${state}\nstoreDir: ${dir}/store\nrescanMs: 200\n`;
    await mkdir(join(dir, 'late'));
    await writeFile(join(dir, 'late', 'rsa.pem'), fullchain(pki.rsaLeaf, pki.intermediate));
    await writeFile(config, `certificates: [${dir}/certs/*.pem]\n${base}`);
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'daemon', '--config', config], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitFor('the first staple', () => existsSync(join(dir, 'certs', 'site.pem.ocsp')), 20_000);
      await waitFor('the start logged', () => /daemon started/.test(out));
      // A bad configuration: refused with all its errors, the old one keeps running.
      await writeFile(config, `certificates: [${dir}/late/*.pem]\ntimeoutMs: fast\nconcurrency: 0\n${base}`);
      child.kill('SIGHUP');
      await waitFor('the refusal', () => /configuration refused, the running one stays/.test(out));
      assert.match(out, /timeoutMs.*concurrency/s);
      assert.equal(child.exitCode, null, 'still running');
      // A good one: the new glob is picked up, the old one dropped.
      await writeFile(config, `certificates: [${dir}/late/*.pem]\n${base}`);
      child.kill('SIGHUP');
      await waitFor('the new certificate stapled', () => existsSync(join(dir, 'late', 'rsa.pem.ocsp')), 20_000);
      await waitFor('the old staple removed', () => !existsSync(join(dir, 'certs', 'site.pem.ocsp')));
      await waitFor('the reload logged', () => /configuration reloaded: certificates changed/.test(out));
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, out);
    const logs = out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { time: unknown; msg: string });
    assert.ok(
      logs.every((l) => typeof l.time === 'string' && /^\d{4}-\d\d-\d\dT/.test(l.time)),
      'ISO times',
    );
    const msgs = logs.map((l) => l.msg);
    assert.ok(msgs.indexOf('stapler daemon starting') < msgs.indexOf('stapling a new OCSP response'), msgs.join('\n'));
    const saved = JSON.parse(await readFile(state, 'utf8')) as { configReloads: number; configReloadsRefused: number; certificates: number };
    assert.equal(saved.configReloads, 1);
    assert.equal(saved.configReloadsRefused, 1);
  });
});

describe('stapler status (command line)', () => {
  const file = (name: string): string => join(dir, name);
  const stateWith = (pid: number, files: Record<string, unknown>[]): string =>
    JSON.stringify({
      pid,
      startedAt: '2026-11-22T00:00:00.000Z',
      updatedAt: '2026-11-22T01:00:00.000Z',
      certificates: files.length,
      unusable: 0,
      reloads: 2,
      reloadFailures: 0,
      configReloads: 0,
      configReloadsRefused: 0,
      files,
    });
  const row = (over: Record<string, unknown>): Record<string, unknown> => ({
    file: '/etc/very/long/path/to/the/certificates/of/this/machine/www.example.com.pem',
    stapleFile: '/x.ocsp',
    stapleWritten: true,
    subject: 'CN=www.example.com',
    serial: '01',
    state: 'stapled',
    certStatus: 'good',
    mustStaple: false,
    thisUpdate: '2026-11-22T00:00:00.000Z',
    nextUpdate: '2026-11-29T00:00:00.000Z',
    validUntil: '2026-11-29T00:00:00.000Z',
    nextRefreshAt: '2026-11-25T12:00:00.000Z',
    lastError: null,
    ...over,
  });

  it('follows the monitoring-plugin exit codes, and fits 80 columns', async () => {
    await writeFile(file('ok.json'), stateWith(process.pid, [row({})]));
    const ok = await stapler(['status', '--state', file('ok.json'), '--all']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^OK: 1 stapled/);
    assert.match(ok.stdout, /\nverdicts: 0 CRITICAL, 0 WARNING, 1 OK\nstates: 1 stapled\n/);
    assert.match(ok.stdout, new RegExp(`state file ${file('ok.json')}`));
    assert.match(ok.stdout, /…\/www\.example\.com\.pem +stapled +2026-11-29T00:00Z +2026-11-25T12:00Z/);
    // Every time it prints is ISO 8601.
    for (const t of ok.stdout.match(/\d{4}-\d\d-\d\d[ T][\d:.]+Z?/g) ?? []) assert.match(t, /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d\.\d{3})?Z$/, t);
    await writeFile(
      file('warn.json'),
      stateWith(process.pid, [
        row({
          state: 'stapled-refresh-failing',
          validUntil: '2099-01-01T00:00:00.000Z',
          lastError: `fetch-timeout: ${'no answer from the responder '.repeat(6)}`,
        }),
      ]),
    );
    const warn = await stapler(['status', '--state', file('warn.json')]);
    assert.equal(warn.code, 1);
    assert.match(warn.stdout, /^WARNING: 1 refresh failing\n/);
    // By default: the summary and the certificates with a problem, each problem on its own line.
    assert.match(warn.stdout, /with a problem: 1 \(--all lists every certificate\)\n/);
    assert.match(warn.stdout, /…\/www\.example\.com\.pem +refresh failing +/);
    assert.match(warn.stdout, /\n {2}its refresh is failing \(stapled-refresh-failing: fetch-timeout: no answer/);
    assert.doesNotMatch((await stapler(['status', '--state', file('ok.json')])).stdout, /www\.example\.com\.pem +stapled/, 'OK rows only with --all');
    for (const l of warn.stdout.split('\n')) assert.ok(l.length <= 80, `over 80 columns: ${l}`);
    await writeFile(file('crit.json'), stateWith(process.pid, [row({ state: 'unstapled' })]));
    assert.equal((await stapler(['status', '--state', file('crit.json')])).code, 2);
    // A pid that is not running (pid_max is at most 2^22).
    await writeFile(file('dead.json'), stateWith(2 ** 22 + 1, [row({})]));
    const dead = await stapler(['status', '--state', file('dead.json'), '--json']);
    assert.equal(dead.code, 2);
    const j = JSON.parse(dead.stdout) as { running: boolean; verdict: string; stateFile: string; files: { nextUpdate: unknown }[] };
    assert.equal(j.running, false);
    assert.equal(j.verdict, 'CRITICAL');
    assert.equal(j.stateFile, file('dead.json'));
    assert.equal(j.files[0]!.nextUpdate, '2026-11-29T00:00:00.000Z');
  });

  it("is UNKNOWN (3) without a readable state file, and by default reads the daemon's own default", async () => {
    const missing = await stapler(['status', '--state', file('none.json')]);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /^UNKNOWN: .*none\.json: does not exist/);
    const stateDir = join(dir, 'statedir');
    const byDefault = await stapler(['status'], { STAPLER_STATE_DIR: stateDir });
    assert.equal(byDefault.code, 3);
    assert.match(byDefault.stderr, new RegExp(`${join(stateDir, 'state.json')}: does not exist`));
    assert.equal(defaultStateDir({ STAPLER_STATE_DIR: stateDir }, 1000), stateDir);
    assert.equal(defaultStateDir({}, 0), '/var/lib/stapler');
    assert.equal(defaultStateDir({ XDG_STATE_HOME: '/home/u/.state' }, 1000), '/home/u/.state/stapler-daemon');
  });
});
