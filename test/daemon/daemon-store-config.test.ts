// The daemon's `store` as a mapping (the library's RedisStoreOptions): checked with every problem
// named, files read relative to the configuration, secrets never shown; and daemons through a
// real Sentinel, a real three-node Cluster and a password-protected Redis, with a key prefix.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { daemonCommand } from '../../src/cli/commands/daemon.ts';
import { buildConfig, configChanges, parseConfig } from '../../src/daemon/config.ts';
import { Daemon } from '../../src/daemon/daemon.ts';
import { captureLogger } from '../support/log-capture.ts';
import { caRig } from '../support/ca-rig.ts';
import { fullchain, type TestPki } from '../support/pki.ts';
import { RedisServer, redisMissing, startCluster } from '../support/redis-server.ts';
import { MASTER_NAME, startSentinel, type SentinelSetup } from '../support/redis-sentinel.ts';
import type { TestResponder } from '../support/responder.ts';
import { waitFor } from '../support/wait.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const missing = redisMissing();
const SECRET = 'S3cret-never-shown';

describe('config key "store" as a mapping', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stapler-store-config-'));
    await writeFile(join(dir, 'redis.pass'), `${SECRET}\n`);
    await writeFile(join(dir, 'ca.pem'), 'CA');
    await writeFile(join(dir, 'big.pass'), 'x'.repeat(5000));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('takes the library options; files are read relative to the base directory; the password stays out of JSON', () => {
    const yaml = [
      'certificates: [a.pem]',
      'store:',
      '  sentinel: { name: mymaster, nodes: ["127.0.0.1:26379", "[::1]:26380"] }',
      '  passwordFile: redis.pass',
      '  keyPrefix: "fleetA:"',
      '  tls: { ca: ca.pem, servername: redis.internal }',
      '  connectTimeoutMs: 1500',
      '  commandTimeoutMs: 2500',
      '  pollMs: 10000',
    ].join('\n');
    const c = parseConfig(yaml, 'stapler.yaml', dir);
    const o = c.store!.options;
    assert.equal(o.password, SECRET, 'read from the file, without its newline');
    assert.deepEqual(o.sentinel, {
      name: 'mymaster',
      nodes: [
        { host: '127.0.0.1', port: 26379 },
        { host: '::1', port: 26380 },
      ],
    });
    assert.equal(o.keyPrefix, 'fleetA:');
    assert.deepEqual(o.tls, { ca: Buffer.from('CA'), servername: 'redis.internal' });
    assert.deepEqual([o.connectTimeoutMs, o.commandTimeoutMs, o.pollMs], [1500, 2500, 10000]);
    assert.match(c.store!.description, /sentinel mymaster@127\.0\.0\.1:26379.*prefix fleetA:/);
    assert.ok(!JSON.stringify(c).includes(SECRET), 'no secret in a dump of the configuration');
    const other = parseConfig(yaml.replace('passwordFile: redis.pass', 'password: another'), 'stapler.yaml', dir);
    assert.deepEqual(configChanges(c, other), ['store'], 'a new password is a change (a new engine)');
    assert.deepEqual(configChanges(c, parseConfig(yaml, 'stapler.yaml', dir)), []);
    assert.equal(buildConfig({ certificates: ['a.pem'], store: 'redis://h:6380/2' }, dir).store!.options.url, 'redis://h:6380/2', 'a URL as before');
  });

  it('--check-config shows the store without its password', async () => {
    const file = join(dir, 'check.yaml');
    await writeFile(
      file,
      `certificates: [${dir}/*.pem]\nstateFile: ${dir}/state.json\nstore:\n  url: redis://:${SECRET}@127.0.0.1:1/0\n  keyPrefix: "fleetK:"\n`,
    );
    let out = '';
    const code = await daemonCommand({ config: file, checkConfig: true }, { out: (s) => (out += s), log: (s) => (out += s) });
    assert.equal(code, 0, out);
    assert.match(out, /store: .* under redis redis:\/\/:\*\*\*@127\.0\.0\.1:1\/0 \(prefix fleetK:\)/);
    assert.ok(!out.includes(SECRET), out);
  });

  it('reports every problem, each by key and reason, and never the password', () => {
    assert.throws(
      () =>
        buildConfig(
          {
            certificates: ['a.pem'],
            store: {
              password: 12345678,
              passwordFile: 'missing.pass',
              sentinel: { nodes: ['nohost', '127.0.0.1:99999'] },
              cluster: 'x',
              tls: { ca: 'nope.pem', cert: 'ca.pem', colour: 1 },
              commandTimeoutMs: 0,
              keyPrefix: 7,
              database: 1,
            },
          },
          dir,
        ),
      (err: Error) => {
        for (const want of [
          /"store.password".*not shown/,
          /"store.passwordFile".*missing\.pass: does not exist/,
          /"store.passwordFile".*both given/,
          /"store.sentinel.nodes\[0\]".*HOST:PORT/,
          /"store.sentinel.nodes\[1\]".*out of range/,
          /"store.sentinel.name".*required/,
          /"store.cluster".*mapping/,
          /"store.tls.ca".*nope\.pem: does not exist/,
          /"store.tls.colour".*not a known key/,
          /"store.tls.key".*both cert and key/,
          /"store.commandTimeoutMs".*from 1 to 60000/,
          /"store.keyPrefix".*non-empty string/,
          /"store.database".*not a known key/,
        ])
          assert.match(err.message, want);
        assert.ok(!err.message.includes('12345678'), 'the password is not shown');
        return true;
      },
    );
    assert.throws(() => buildConfig({ certificates: ['a.pem'], store: { passwordFile: 'big.pass' } }, dir), /"store.passwordFile".*over the 4 KiB limit/);
    assert.throws(
      () => buildConfig({ certificates: ['a.pem'], store: { sentinel: { name: 'm', nodes: ['h:1'] }, cluster: { nodes: ['h:2'] } } }, dir),
      /"store".*choose cluster or sentinel/,
    );
    assert.throws(
      () => buildConfig({ certificates: ['a.pem'], store: { url: `redis://:${SECRET}@h/`, keyPrefix: 'a b' } }, dir),
      (e: Error) => /"store".*keyPrefix/.test(e.message) && !e.message.includes(SECRET),
    );
    assert.throws(
      () => buildConfig({ certificates: ['a.pem'], store: `http://u:${SECRET}@h/` }, dir),
      (e: Error) => /"store".*redis:\/\//.test(e.message) && !e.message.includes(SECRET),
    );
  });
});

describe('daemons through a Sentinel, a Cluster and a password file', { skip: missing ?? false }, () => {
  let pki: TestPki;
  let root: string;
  let responder: TestResponder;
  const daemons: Daemon[] = [];

  before(async () => {
    ({ pki, responder } = await caRig());
    root = await mkdtemp(join(tmpdir(), 'stapler-daemon-store-'));
  });
  after(async () => {
    for (const d of daemons) await d.stop();
    await responder.close();
    await rm(root, { recursive: true, force: true });
  });

  /** A host: its certificate and a stapler.yaml with `storeYaml`; returns its staple file's path. */
  async function host(name: string, storeYaml: string): Promise<{ dir: string; yaml: string; staple: string }> {
    const dir = join(root, name);
    await mkdir(join(dir, 'certs'), { recursive: true });
    await writeFile(join(dir, 'certs', 'site.pem'), fullchain(pki.leaf, pki.intermediate));
    const yaml = `certificates: [certs/*.pem]\nstateFile: state.json\nrescanMs: 200\nstore:\n${storeYaml}\n`;
    await writeFile(join(dir, 'stapler.yaml'), yaml);
    return { dir, yaml, staple: join(dir, 'certs', 'site.pem.ocsp') };
  }

  async function inProcess(name: string, storeYaml: string): Promise<{ staple: string; lines: ReturnType<typeof captureLogger>['lines'] }> {
    const h = await host(name, storeYaml);
    const { logger, lines } = captureLogger();
    const daemon = new Daemon(parseConfig(h.yaml, 'stapler.yaml', h.dir), { logger });
    daemons.push(daemon);
    await daemon.start();
    return { staple: h.staple, lines };
  }

  it('Sentinel, with a key prefix: one CA request for two daemons (one of them `stapler daemon --config`), keys under the prefix', async () => {
    const sdir = join(root, 'sentinel');
    await mkdir(sdir);
    const setup: SentinelSetup = await startSentinel(sdir);
    try {
      const storeYaml = `  sentinel: { name: ${MASTER_NAME}, nodes: ["127.0.0.1:${setup.option.nodes[0]!.port}"] }\n  keyPrefix: "fleetS:"`;
      const count = responder.requestCount;
      const first = await inProcess('s1', storeYaml);
      await waitFor('the first staple', () => existsSync(first.staple));
      const h = await host('s2', storeYaml);
      const child = spawn(
        process.execPath,
        ['--import', import.meta.resolve('tsx'), join(ROOT, 'src/cli/main.ts'), 'daemon', '--config', join(h.dir, 'stapler.yaml')],
        {
          cwd: h.dir,
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      try {
        await waitFor('the second staple, from Redis through Sentinel', () => existsSync(h.staple), 30_000);
      } catch (err) {
        assert.fail(`${(err as Error).message}\n${out}`);
      } finally {
        child.kill('SIGTERM');
      }
      assert.equal(await exited, 0, out);
      assert.equal(responder.requestCount - count, 1, 'one CA request between the two');
      const keys = setup.master.cli('--scan', '--pattern', '*').split('\n').filter(Boolean);
      assert.ok(keys.length > 0 && keys.every((k) => k.startsWith('fleetS:')), keys.join(' '));
      assert.ok(
        keys.some((k) => k.endsWith(':staple')),
        keys.join(' '),
      );
    } finally {
      for (const d of daemons.splice(0)) await d.stop();
      await setup.stop();
    }
  });

  it('Cluster, with a key prefix: one CA request for two daemons, keys under the prefix', async () => {
    const cdir = join(root, 'cluster');
    await mkdir(cdir);
    const nodes = await startCluster(cdir);
    try {
      const storeYaml = `  cluster: { nodes: [${nodes.map((n) => `"127.0.0.1:${n.port}"`).join(', ')}] }\n  keyPrefix: "fleetC:"`;
      const count = responder.requestCount;
      const first = await inProcess('c1', storeYaml);
      await waitFor('the first staple', () => existsSync(first.staple));
      const second = await inProcess('c2', storeYaml);
      await waitFor('the second staple, from the Cluster', () => existsSync(second.staple));
      assert.equal(responder.requestCount - count, 1, 'one CA request between the two');
      const keys = nodes.flatMap((n) => n.cli('--scan', '--pattern', '*').split('\n').filter(Boolean));
      assert.ok(keys.some((k) => k.endsWith(':staple')) && keys.every((k) => k.startsWith('fleetC:')), keys.join(' '));
    } finally {
      for (const d of daemons.splice(0)) await d.stop();
      await Promise.all(nodes.map((n) => n.stop()));
    }
  });

  it('a password from passwordFile: the daemon shares through a protected Redis, and never logs the password', async () => {
    const locked = await RedisServer.start(['--requirepass', SECRET]);
    try {
      const pdir = join(root, 'p1');
      await mkdir(pdir, { recursive: true });
      await writeFile(join(pdir, 'redis.pass'), `${SECRET}\n`);
      const { staple, lines } = await inProcess('p1', `  url: redis://127.0.0.1:${locked.port}\n  passwordFile: redis.pass`);
      await waitFor('the staple', () => existsSync(staple));
      await waitFor('the staple saved in Redis', () => locked.cli('-a', SECRET, '--no-auth-warning', '--scan', '--pattern', 'stapler:*').includes(':staple'));
      assert.equal(lines.filter((l) => /unreachable/.test(l.message)).length, 0, 'authenticated');
      assert.ok(!JSON.stringify(lines).includes(SECRET), 'the password is never logged');
    } finally {
      for (const d of daemons.splice(0)) await d.stop();
      await locked.stop();
    }
  });
});
