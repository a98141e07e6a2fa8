// Responder-only deployments turn staple files off (`stapleFile: false`): no .ocsp file is
// written or withdrawn, output health has no staple-file rows, and the listener answers. The
// shipped systemd unit's ExecStart runs each documented responder-only configuration as its own
// process (under a scratch root standing for /): it starts, answers on the listener, and writes
// only inside the unit's ReadWritePaths and StateDirectory (ProtectSystem=strict allows no more).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import { basename, dirname, join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { assembleDaemon } from '../../src/daemon/assemble.ts';
import { buildConfig, parseConfig } from '../../src/daemon/config.ts';
import { checkConfigFiles } from '../../src/daemon/check-config.ts';
import { SYSTEMD_NOTIFY } from '../../src/daemon/systemd-notify.ts';
import { parseResponse } from '../../src/ocsp/response.ts';
import { buildRequest, certIdFor } from '../../src/ocsp/request.ts';
import { examples, where, type DocExample } from '../support/doc-examples.ts';
import { captureLogger } from '../support/log-capture.ts';
import { freePort } from '../support/openssl.ts';
import { caRig } from '../support/ca-rig.ts';
import { fullchain, type TestPki } from '../support/pki.ts';
import type { TestResponder } from '../support/responder.ts';
import { startServer } from '../support/server-process.ts';
import { waitFor } from '../support/wait.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const UNIT = join(ROOT, 'examples/systemd/stapler.service');
const NOTIFY_FIXTURE = new URL('./fixtures/notify-socket.py', import.meta.url).pathname;
let pki: TestPki;
let responder: TestResponder;

before(async () => ({ pki, responder } = await caRig()));
after(() => responder.close());

/** POST an OCSP request for the test leaf; the HTTP status and the OCSP certificate status. */
async function ask(port: number): Promise<{ status: number; certStatus: string | null }> {
  const body = buildRequest(certIdFor(pki.leaf.cert, pki.intermediate.cert));
  const res = await request(`http://127.0.0.1:${port}/`, { method: 'POST', body, headers: { 'content-type': 'application/ocsp-request' } });
  const der = Buffer.from(await res.body.arrayBuffer());
  if (res.statusCode !== 200) return { status: res.statusCode, certStatus: null };
  const parsed = parseResponse(der);
  return { status: res.statusCode, certStatus: parsed.basic ? (parsed.basic.responses[0]?.status ?? null) : parsed.status };
}

/** Every file under dir (relative paths). */
function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((p) => statSync(join(dir, p)).isFile());
}

describe('stapleFile: false in the configuration', () => {
  const base = { certificates: ['/c/*.pem'], listen: '127.0.0.1:0' };

  it('is accepted (no staple file template); true or an empty string is refused, naming the key', () => {
    assert.equal(buildConfig({ ...base, stapleFile: false }, '/').stapleFile, null);
    assert.equal(buildConfig(base, '/').stapleFile, '{cert}.ocsp');
    for (const bad of [true, ''])
      assert.throws(() => buildConfig({ ...base, stapleFile: bad }, '/'), /config key "stapleFile": .* expected a template such as "\{cert\}\.ocsp", or false/);
  });

  it('refuses the outputs that need the files: nginxInclude, haproxy and reload, each named in one run', () => {
    assert.throws(
      () =>
        parseConfig(
          'certificates: [/c/*.pem]\nstapleFile: false\nnginxInclude: "{cert}.conf"\nhaproxy: { socket: /run/h.sock }\nreload: { command: "true" }\n',
          'x.yaml',
          '/',
        ),
      (err: Error) =>
        ['nginxInclude', 'haproxy', 'reload'].every((k) => new RegExp(`config key "${k}": cannot be used with stapleFile: false`).test(err.message)),
    );
  });

  it('--check-config: no output directory to check, even one that cannot be written', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'stapler-files-off-check-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'site.pem'), fullchain(pki.leaf, pki.intermediate));
    const withFiles = buildConfig({ certificates: [join(dir, '*.pem')], stapleFile: `${dir}/missing/{name}.ocsp` }, dir);
    assert.match((await checkConfigFiles(withFiles)).warnings.join('\n'), /output directory .*missing: the daemon cannot write there/);
    const off = await checkConfigFiles(buildConfig({ certificates: [join(dir, '*.pem')], stapleFile: false }, dir));
    assert.deepEqual(off.warnings, []);
    assert.deepEqual(off.errors, []);
    assert.equal(off.files, 1);
  });
});

describe('a daemon with stapleFile: false', () => {
  it('writes no staple file and withdraws none, has no staple-file output rows, and answers on the listener', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'stapler-files-off-'));
    await mkdir(join(dir, 'certs'));
    await writeFile(join(dir, 'certs', 'site.pem'), fullchain(pki.leaf, pki.intermediate));
    // A staple file left from before (an older set-up): the daemon no longer owns it.
    await writeFile(join(dir, 'certs', 'other.pem.ocsp'), 'left from before');
    await writeFile(join(dir, 'certs', 'site.pem.ocsp'), 'left from before');
    const config = buildConfig(
      { certificates: [join(dir, 'certs', '*.pem')], stapleFile: false, stateFile: join(dir, 'state', 'state.json'), listen: '127.0.0.1:0', timeoutMs: 2_000 },
      dir,
    );
    const { logger } = captureLogger();
    const { service } = assembleDaemon(config, logger);
    t.after(() => service.stop());
    t.after(() => rm(dir, { recursive: true, force: true }));
    await service.start();
    const id = service.daemon.state().files[0];
    await waitFor('the first staple', () => service.daemon.state().files[0]?.serving === true);
    assert.deepEqual(await ask(service.address()!.port), { status: 200, certStatus: 'good' });
    // Gone from the engine (the file removed): the leftover is not withdrawn either.
    const state = service.daemon.state().files[0]!;
    assert.equal(state.stapleFile, null);
    assert.equal(state.stapleWritten, false);
    assert.deepEqual(
      state.outputs.filter((o) => o.kind === 'staple-file'),
      [],
    );
    assert.ok(id);
    await service.daemon.refreshAll();
    assert.deepEqual(readdirSync(join(dir, 'certs')).sort(), ['other.pem.ocsp', 'site.pem', 'site.pem.ocsp']);
    assert.equal(readFileSync(join(dir, 'certs', 'site.pem.ocsp'), 'utf8'), 'left from before');
  });
});

/** The unit's settings, by key (a key given twice keeps both values). */
function unitSettings(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m) out.set(m[1]!, [...(out.get(m[1]!) ?? []), m[2]!]);
  }
  return out;
}

describe("the shipped systemd unit's ExecStart, with each documented responder-only configuration", () => {
  const documented = examples('responder-config');
  const shipped: DocExample = {
    file: 'examples/stapler-apache.yaml',
    line: 1,
    lang: 'yaml',
    tags: [],
    code: readFileSync(join(ROOT, 'examples/stapler-apache.yaml'), 'utf8'),
  };
  for (const e of [...documented, shipped]) {
    it(`${where(e)}: starts, answers on the listener, and writes only where the unit allows`, async (t) => {
      assert.match(e.code, /^stapleFile: false\b/m, 'a responder-only configuration');
      const unit = unitSettings(readFileSync(UNIT, 'utf8'));
      const execStart = unit.get('ExecStart')![0]!.split(' ');
      assert.deepEqual(execStart.slice(0, 3), ['/usr/bin/env', 'stapler', 'daemon'], 'ExecStart runs `stapler` from PATH');
      // A scratch root stands for /: /etc and /var/lib are moved under it, nothing else changes.
      const root = await mkdtemp(join(tmpdir(), 'stapler-unit-root-'));
      t.after(() => rm(root, { recursive: true, force: true }));
      const moved = (s: string): string => s.replace(/(?<![\w/])\/(etc|var\/lib)\//g, `${root}/$1/`);
      const port = await freePort();
      const yaml = moved(e.code).replaceAll('127.0.0.1:8080', `127.0.0.1:${port}`);
      const args = execStart.map(moved);
      const configPath = args[args.indexOf('--config') + 1]!;
      await mkdir(dirname(configPath), { recursive: true });
      await writeFile(configPath, yaml);
      const glob = parseConfig(yaml, configPath, '/').certificates[0]!;
      const certFile = glob.replace('*', 'site');
      await mkdir(dirname(certFile), { recursive: true });
      await writeFile(certFile, fullchain(pki.leaf, pki.intermediate));
      // systemd's StateDirectory=stapler: it creates /var/lib/stapler and says so in STATE_DIRECTORY.
      const stateDir = `${root}/var/lib/${unit.get('StateDirectory')![0]}`;
      await mkdir(stateDir, { recursive: true });
      const before = new Set(walk(root));
      // `stapler` on PATH: the checkout's CLI (the installed bin runs the same code, compiled).
      const bin = join(root, 'bin');
      await mkdir(bin);
      await writeFile(join(bin, 'stapler'), `#!/bin/sh\nexec "${process.execPath}" --import ${import.meta.resolve('tsx')} ${ROOT}src/cli/main.ts "$@"\n`);
      chmodSync(join(bin, 'stapler'), 0o755);
      const env: NodeJS.ProcessEnv = { PATH: `${bin}:/usr/bin:/bin`, STATE_DIRECTORY: stateDir, STAPLER_STATE_DIR: stateDir };
      // Type=notify: systemd's socket, when systemd-notify is there to speak to it.
      const messages: string[] = [];
      if (existsSync(SYSTEMD_NOTIFY)) {
        const socket = join(root, 'notify.sock');
        const systemd = spawn('python3', [NOTIFY_FIXTURE, socket], { stdio: ['ignore', 'pipe', 'inherit'] });
        t.after(() => void systemd.kill());
        createInterface({ input: systemd.stdout }).on('line', (l) => {
          const m = (JSON.parse(l) as { message?: string }).message;
          if (m !== undefined) messages.push(m);
        });
        await waitFor('the notify socket', () => existsSync(socket));
        env.NOTIFY_SOCKET = socket;
      }
      const daemon = await startServer(args[0]!, args.slice(1), /ready: the first fetches are done/, undefined, { env, cwd: '/' });
      t.after(() => daemon.stop());
      if (env.NOTIFY_SOCKET) await waitFor('READY=1', () => messages.some((m) => /^READY=1$/m.test(m)));
      assert.deepEqual(await ask(port), { status: 200, certStatus: 'good' }, daemon.output());
      await daemon.stop();
      assert.match(daemon.output(), /stapler daemon stopped/);

      // What it wrote: only under the unit's writable paths, and nothing beside the certificate.
      const writable = [
        ...unit
          .get('ReadWritePaths')![0]!
          .split(' ')
          .map((p) => moved(p.replace(/^-/, ''))),
        stateDir,
      ];
      const written = walk(root).filter((p) => !before.has(p) && !p.startsWith('bin/') && p !== 'notify.sock');
      assert.ok(written.length > 0, 'the state file at least');
      for (const p of written)
        assert.ok(
          writable.some((w) => !relative(w, join(root, p)).startsWith('..')),
          `${p} is written outside ${writable.join(' ')}`,
        );
      assert.deepEqual(readdirSync(dirname(certFile)), [basename(certFile)], 'no .ocsp file beside the certificate');
    });
  }
});
