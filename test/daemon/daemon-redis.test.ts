// Two daemons on two "hosts" (each its own directories) share a fleet's Redis: one CA request
// for their one certificate, and both write its staple file. The configuration takes the URL,
// refuses anything else, and never shows its password back.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildConfig } from '../../src/daemon/config.ts';
import { Daemon } from '../../src/daemon/daemon.ts';
import { captureLogger } from '../support/log-capture.ts';
import { caRig } from '../support/ca-rig.ts';
import { fullchain, type TestPki } from '../support/pki.ts';
import { RedisServer, redisMissing } from '../support/redis-server.ts';
import { peerSkip } from '../support/peers.ts';
import type { TestResponder } from '../support/responder.ts';
import { waitFor } from '../support/wait.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin', 'stapler.js');
const missing = redisMissing();
if (missing) console.log(`# skipping the daemon's Redis test: ${missing}`);

describe('the daemon with a fleet store', { skip: missing ?? false }, () => {
  let pki: TestPki;
  let redis: RedisServer;
  let root: string;
  let responder: TestResponder;
  const daemons: Daemon[] = [];

  before(async () => {
    ({ pki, responder } = await caRig());
    redis = await RedisServer.start();
    root = await mkdtemp(join(tmpdir(), 'stapler-daemon-redis-'));
  });
  after(async () => {
    for (const d of daemons) await d.stop();
    await redis.stop();
    await responder.close();
    await rm(root, { recursive: true, force: true });
  });

  async function host(name: string): Promise<string> {
    const dir = join(root, name);
    await mkdir(join(dir, 'certs'), { recursive: true });
    await writeFile(join(dir, 'certs', 'site.pem'), fullchain(pki.leaf, pki.intermediate));
    const config = buildConfig({ certificates: [join(dir, 'certs', '*.pem')], stateFile: join(dir, 'state.json'), store: redis.url, rescanMs: 100 }, dir);
    assert.equal(config.storeDir, join(dir, 'staples'), 'its own directory under the shared Redis');
    const daemon = new Daemon(config, { logger: captureLogger().logger });
    daemons.push(daemon);
    await daemon.start();
    return join(dir, 'certs', 'site.pem.ocsp');
  }

  it('two hosts make one CA request between them, and both staple', async () => {
    const before = responder.requestCount;
    const first = await host('a');
    await waitFor('the first host staple', () => existsSync(first));
    const second = await host('b');
    await waitFor('the second host staple, from Redis', () => existsSync(second));
    assert.equal(responder.requestCount - before, 1);
  });

  it(
    '`stapler daemon --store` (the installed bin) with a wrong password: staples from the CA, says which store fails and why, never shows the password',
    {
      skip: peerSkip('dist'),
    },
    async () => {
      const locked = await RedisServer.start(['--requirepass', 'r1ght-S3cret']);
      const dir = join(root, 'bin');
      await mkdir(join(dir, 'certs'), { recursive: true });
      await writeFile(join(dir, 'certs', 'site.pem'), fullchain(pki.leaf, pki.intermediate));
      const config = join(dir, 'stapler.yaml');
      await writeFile(config, `certificates: [${dir}/certs/*.pem]\nstateFile: ${dir}/state.json\nrescanMs: 200\n`);
      const count = responder.requestCount;
      const child = spawn(process.execPath, [BIN, 'daemon', '--config', config, '--store', `redis://:wr0ng-S3cret@127.0.0.1:${locked.port}`], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      try {
        await waitFor('the staple file, from the CA', () => existsSync(join(dir, 'certs', 'site.pem.ocsp')), 30_000);
        await waitFor('the failing store logged', () => /redis is unreachable/.test(out));
      } finally {
        child.kill('SIGTERM');
        await locked.stop();
      }
      assert.equal(await exited, 0, out);
      assert.equal(responder.requestCount - count, 1, 'one request');
      const failing = out.split('\n').filter((l) => l.includes('redis is unreachable'));
      assert.equal(failing.length, 1, out);
      assert.ok(failing[0]!.includes(`redis://:***@127.0.0.1:${locked.port}`), 'names the store');
      assert.match(failing[0]!, /WRONGPASS|invalid username-password|NOAUTH/, 'says why');
      assert.ok(!out.includes('wr0ng-S3cret'), 'the password is never shown');
    },
  );

  it('the configuration refuses a store that is neither a Redis URL nor a mapping, and hides its password', () => {
    assert.throws(
      () => buildConfig({ certificates: ['a.pem'], store: 'mongodb://u:s3cret@h/' }, root),
      (err: Error) => /config key "store".*redis:\/\/ or rediss:\/\//.test(err.message) && !err.message.includes('s3cret'),
    );
  });
});
