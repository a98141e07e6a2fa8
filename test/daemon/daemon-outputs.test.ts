// Outputs are state: a staple file that cannot be written (here ENOTDIR: its folder is a file)
// is kept as failing, named by /healthz, /status.json and `stapler status` (WARNING), logged
// once, retried with backoff, and reported again as working once it is written.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { assembleDaemon } from '../../src/daemon/assemble.ts';
import { buildConfig } from '../../src/daemon/config.ts';
import { Daemon } from '../../src/daemon/daemon.ts';
import { DaemonService } from '../../src/daemon/service.ts';
import { captureLogger } from '../support/log-capture.ts';
import { fullchain, makePki, type TestPki } from '../support/pki.ts';
import { TestResponder } from '../support/responder.ts';
import { waitFor } from '../support/wait.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
let pki: TestPki;
let responder: TestResponder;

before(async () => {
  responder = new TestResponder();
  pki = await makePki({ ocspUrl: await responder.listen() });
  responder.serve(pki);
});
after(() => responder.close());

const get = async (url: string): Promise<{ status: number; text: string }> => {
  const res = await request(url);
  return { status: res.statusCode, text: await res.body.text() };
};

function status(stateFile: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) =>
    execFile(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'status', '--state', stateFile], { cwd: ROOT }, (e, out) =>
      resolve({ code: e ? Number(e.code) : 0, out }),
    ),
  );
}

describe('a staple file that cannot be written', () => {
  it('is WARNING in stapler status, a /healthz problem naming the file, lastError in /status.json; retried until it works', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'stapler-outputs-'));
    await mkdir(join(dir, 'certs'));
    await writeFile(join(dir, 'certs', 'site.pem'), fullchain(pki.leaf, pki.intermediate));
    await writeFile(join(dir, 'out'), 'a file where the folder should be\n');
    const stateFile = join(dir, 'state.json');
    const config = buildConfig(
      {
        certificates: [join(dir, 'certs', '*.pem')],
        stapleFile: `${dir}/out/{name}.ocsp`,
        stateFile,
        storeDir: join(dir, 'store'),
        listen: '127.0.0.1:0',
        timeoutMs: 2_000,
      },
      dir,
    );
    const { logger, lines } = captureLogger();
    const { service } = assembleDaemon(config, logger);
    t.after(() => service.stop());
    await service.start();
    const base = `http://127.0.0.1:${service.address()!.port}`;
    const target = join(dir, 'out', 'site.ocsp');
    await waitFor('the failure recorded', () => service.daemon.state().files[0]!.outputs.some((o) => !o.ok));

    // A failed output is WARNING (the server still has its last staple): /healthz stays 200 and
    // lists it under "warning:", by the one verdict every face reads.
    const health = await get(`${base}/healthz`);
    assert.equal(health.status, 200);
    assert.match(health.text, /^warning:/);
    assert.match(health.text, new RegExp(`site\\.pem: cannot write the staple file ${target.replace(/[.]/g, '\\.')}`));
    const json = JSON.parse((await get(`${base}/status.json`)).text) as { files: { stapleWritten: boolean; lastError: string | null }[] };
    assert.equal(json.files[0]!.stapleWritten, false);
    assert.match(json.files[0]!.lastError ?? '', /staple-file .*out\/site\.ocsp/);
    await service.daemon.saveState();
    const cli = await status(stateFile);
    assert.equal(cli.code, 1, cli.out);
    assert.match(cli.out.split('\n')[0]!, /^WARNING: /);
    // Fixed: the retry writes it, and says so once.
    await rm(join(dir, 'out'));
    await mkdir(join(dir, 'out'));
    await waitFor('the staple file written by a retry', () => existsSync(target), 20_000);
    // The file is renamed into place before the write is recorded as working: wait for that too.
    await waitFor('/healthz ok again', async () => (await get(`${base}/healthz`)).text === 'ok\n');
    assert.ok(lines.some((l) => /the staple file works again/.test(l.message)));
    // Logged once when it failed, however many retries failed before the fix.
    assert.equal(lines.filter((l) => /cannot write the staple file/.test(l.message)).length, 1);
  });
});

describe('the first-fetch line', () => {
  it('in staple-file mode (no listener) names the files and says no staple file, not "answered 503"', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'stapler-first-'));
    await mkdir(join(dir, 'certs'));
    await writeFile(join(dir, 'certs', 'site.pem'), fullchain(pki.leaf, pki.intermediate));
    responder.behaviour = 'tryLater';
    t.after(() => void (responder.behaviour = 'good'));
    const config = buildConfig(
      { certificates: [join(dir, 'certs', '*.pem')], stateFile: join(dir, 'state.json'), storeDir: join(dir, 'store'), timeoutMs: 1_000 },
      dir,
    );
    const { logger, lines } = captureLogger();
    const service = new DaemonService(config, { logger });
    t.after(() => service.stop());
    await service.start();
    const line = lines.find((l) => /without a staple after their first fetch/.test(l.message));
    assert.ok(line, lines.map((l) => l.message).join('\n'));
    assert.match(line.message, /no staple file for them until they have one/);
    assert.doesNotMatch(line.message, /503/);
    assert.deepEqual(line.fields.unstapled, [join(dir, 'certs', 'site.pem')]);
  });
});

describe("HAProxy's minimum staple validity", () => {
  it('a staple with under 300 s to its nextUpdate is not pushed and is reported (HAProxy would not staple it); a longer one is pushed', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'stapler-haproxy-min-'));
    await mkdir(join(dir, 'certs'));
    await writeFile(join(dir, 'certs', 'site.pem'), fullchain(pki.leaf, pki.intermediate));
    // A stand-in stats socket that accepts every push, as HAProxy's runtime API answers.
    const pushes: string[] = [];
    const socket = join(dir, 'admin.sock');
    const server = createServer((c) => {
      c.on('data', (d: Buffer) => {
        pushes.push(d.toString());
        c.end('OCSP Response updated!\n');
      });
    });
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    t.after(() => server.close());
    const before = responder.validityMs;
    responder.validityMs = 260_000; // nextUpdate 200 s after now
    t.after(() => void (responder.validityMs = before));
    const config = buildConfig(
      { certificates: [join(dir, 'certs', '*.pem')], stateFile: join(dir, 'state.json'), storeDir: join(dir, 'store'), timeoutMs: 10_000, haproxy: { socket } },
      dir,
    );
    const daemon = new Daemon(config, { logger: captureLogger().logger });
    t.after(() => daemon.stop());
    await daemon.start();
    const haproxy = (): { ok: boolean; error: string | null } | undefined => daemon.state().files[0]!.outputs.find((o) => o.kind === 'haproxy-push');
    await waitFor('the HAProxy output reported', () => haproxy() !== undefined);
    assert.equal(haproxy()!.ok, false);
    assert.match(haproxy()!.error ?? '', /HAProxy does not staple a response valid for less than 300 s/);
    assert.equal(pushes.length, 0, 'not pushed');
    responder.validityMs = 3_600_000;
    // The first refresh may still be releasing its lease: a refresh asked for then joins it and fetches nothing.
    await daemon.engine.idle();
    await daemon.refreshAll();
    // A 10 s fetch timeout: at 1 s, a loaded machine timed the refresh out twice, and the retry came after the wait.
    await waitFor('the push', () => haproxy()?.ok === true).catch((err: Error) => {
      throw new Error(
        `${err.message}: ${JSON.stringify({ outputs: daemon.state().files[0]!.outputs, status: daemon.engine.status()[0], pushes: pushes.length })}`,
      );
    });
    assert.equal(pushes.length, 1);
  });
});
