// A daemon started with its fleet Redis down, or with a wrong password, logs once that the store
// fails and once that it is back, whatever the traffic (rescans, refreshes of several
// certificates): no "failing" / "works again" flap at start. Real redis-server.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildConfig } from '../../src/daemon/config.ts';
import { Daemon } from '../../src/daemon/daemon.ts';
import { captureLogger, type LogLine } from '../support/log-capture.ts';
import { caRig } from '../support/ca-rig.ts';
import { fullchain, type TestPki } from '../support/pki.ts';
import { freePort, RedisServer, redisMissing } from '../support/redis-server.ts';
import type { TestResponder } from '../support/responder.ts';
import { waitFor } from '../support/wait.ts';

const missing = redisMissing();
if (missing) console.log(`# skipping the store log flap tests: ${missing}`);

const FAILING = /the store is failing|redis is unreachable/;
const BACK = /the store works again|redis is reachable again/;
const count = (lines: readonly LogLine[], re: RegExp): number => lines.filter((l) => re.test(l.message)).length;

describe('the store log at start, with Redis failing', { skip: missing ?? false }, () => {
  let pki: TestPki;
  let responder: TestResponder;
  before(async () => ({ pki, responder } = await caRig()));
  after(() => responder.close());

  async function daemonWith(
    t: { after: (fn: () => Promise<void>) => void },
    store: Record<string, unknown>,
  ): Promise<{ daemon: Daemon; lines: LogLine[]; dir: string }> {
    const dir = await mkdtemp(join(tmpdir(), 'stapler-store-flap-'));
    await mkdir(join(dir, 'certs'));
    for (const [i, leaf] of [pki.leaf, pki.rsaLeaf].entries()) await writeFile(join(dir, 'certs', `site-${i}.pem`), fullchain(leaf, pki.intermediate));
    const config = buildConfig(
      {
        certificates: [join(dir, 'certs', '*.pem')],
        stateFile: join(dir, 'state.json'),
        store: { connectTimeoutMs: 300, commandTimeoutMs: 300, ...store },
        rescanMs: 100,
      },
      dir,
    );
    const { logger, lines } = captureLogger();
    const daemon = new Daemon(config, { logger });
    t.after(() => daemon.stop());
    t.after(() => rm(dir, { recursive: true, force: true }));
    await daemon.start();
    return { daemon, lines, dir };
  }

  /** Traffic: every certificate refreshed (store loads, leases, saves), several times over. */
  async function traffic(daemon: Daemon): Promise<void> {
    for (let i = 0; i < 3; i++) await daemon.refreshAll();
  }

  it('down at start: one line when it fails, one when it is back, none in between', async (t) => {
    const port = await freePort();
    const { daemon, lines } = await daemonWith(t, { url: `redis://127.0.0.1:${port}` });
    await waitFor('every staple', () => daemon.state().files.every((f) => f.serving));
    await traffic(daemon);
    assert.equal(count(lines, FAILING), 1, lines.map((l) => l.message).join('\n'));
    assert.equal(count(lines, BACK), 0, lines.map((l) => l.message).join('\n'));
    const redis = await RedisServer.start([], port);
    t.after(() => redis.stop());
    await waitFor('redis seen back', () => count(lines, BACK) > 0);
    await traffic(daemon);
    assert.equal(count(lines, FAILING), 1, lines.map((l) => l.message).join('\n'));
    assert.equal(count(lines, BACK), 1, lines.map((l) => l.message).join('\n'));
  });

  it('a wrong password: one line when it fails, none that says it works, one when the password is right', async (t) => {
    const redis = await RedisServer.start(['--requirepass', 'the-right-one']);
    t.after(() => redis.stop());
    const { daemon, lines } = await daemonWith(t, { url: redis.url, password: 'a-wrong-one' });
    await waitFor('every staple', () => daemon.state().files.every((f) => f.serving));
    await traffic(daemon);
    assert.equal(count(lines, FAILING), 1, lines.map((l) => l.message).join('\n'));
    assert.equal(count(lines, BACK), 0, lines.map((l) => l.message).join('\n'));
    // The password the daemon has becomes the right one: its next attempt gets in.
    redis.cli('-a', 'the-right-one', '--no-auth-warning', 'CONFIG', 'SET', 'requirepass', 'a-wrong-one');
    await waitFor('redis seen back', () => count(lines, BACK) > 0);
    await traffic(daemon);
    assert.equal(count(lines, FAILING), 1, lines.map((l) => l.message).join('\n'));
    assert.equal(count(lines, BACK), 1, lines.map((l) => l.message).join('\n'));
  });
});
