// Daemons on hosts of their own (each its own directories) while the fleet's Redis fails: down
// at start, killed and restarted empty, hung (SIGSTOP), flushed. Staple files are written and
// refreshed all along, from the CA when Redis cannot help (at most one request per daemon and
// certificate), the Redis store logs one line when Redis fails and one when it is back, a
// restarted or flushed Redis gets the staples back, and a daemon restarted while Redis is down
// staples from its own directory with no request. The store is the daemon's own two tiers, with
// short Redis timeouts so that the test is quick.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildConfig } from '../../src/daemon/config.ts';
import { Daemon } from '../../src/daemon/daemon.ts';
import { DirectoryStore } from '../../src/store/directory-store.ts';
import { RedisStore } from '../../src/store/redis-store.ts';
import { TieredStore } from '../../src/store/tiered-store.ts';
import { captureLogger, type LogLine } from '../support/log-capture.ts';
import { fullchain, issue, makePki, type Issued, type TestPki } from '../support/pki.ts';
import { RedisServer, redisMissing } from '../support/redis-server.ts';
import { TestResponder } from '../support/responder.ts';
import { waitFor } from '../support/wait.ts';

const missing = redisMissing();
if (missing) console.log(`# skipping the daemon's Redis fault tests: ${missing}`);

interface Host {
  readonly daemon: Daemon;
  readonly lines: LogLine[];
  readonly stapleFile: string;
  readonly dir: string;
}

describe('daemons while the fleet store fails', { skip: missing ?? false }, () => {
  let pki: TestPki;
  let redis: RedisServer;
  let root: string;
  const responder = new TestResponder();
  const running: Daemon[] = [];

  before(async () => {
    pki = await makePki({ ocspUrl: await responder.listen() });
    responder.serve(pki);
    redis = await RedisServer.start();
    root = await mkdtemp(join(tmpdir(), 'stapler-daemon-redis-faults-'));
  });
  after(async () => {
    for (const d of running) await d.stop();
    await redis.stop();
    await responder.close();
    await rm(root, { recursive: true, force: true });
  });

  async function host(name: string, certs: readonly Issued[] = [pki.leaf]): Promise<Host> {
    const dir = join(root, name);
    await mkdir(join(dir, 'certs'), { recursive: true });
    for (const [i, c] of certs.entries()) await writeFile(join(dir, 'certs', `site-${i}.pem`), fullchain(c, pki.intermediate));
    const config = buildConfig({ certificates: [join(dir, 'certs', '*.pem')], stateFile: join(dir, 'state.json'), store: redis.url, rescanMs: 100 }, dir);
    const { logger, lines } = captureLogger();
    const shared = new RedisStore({ url: redis.url, commandTimeoutMs: 500, connectTimeoutMs: 500, pollMs: 200, logger });
    const daemon = new Daemon(config, { logger, store: new TieredStore(new DirectoryStore(config.storeDir), shared) });
    running.push(daemon);
    await daemon.start();
    return { daemon, lines, stapleFile: join(dir, 'certs', 'site-0.pem.ocsp'), dir };
  }

  const stop = async (h: Host): Promise<void> => {
    running.splice(running.indexOf(h.daemon), 1);
    await h.daemon.stop();
  };
  const idOf = (h: Host): string => h.daemon.engine.status()[0]!.id;
  const inRedis = (h: Host): boolean => redis.cli('EXISTS', `stapler:{${idOf(h)}}:staple`) === '1';
  const said = (h: Host, text: string): number => h.lines.filter((l) => l.message.startsWith(text)).length;
  /** GeneralizedTime has seconds: move the responder one second on, so that its next response is visibly newer. */
  const nextSecond = async (): Promise<void> => responder.advance(1_000);

  async function refreshed(h: Host): Promise<void> {
    const before = await readFile(h.stapleFile);
    await nextSecond();
    await h.daemon.engine.refreshById(idOf(h));
    await waitFor('the staple file refreshed', async () => !(await readFile(h.stapleFile)).equals(before));
  }

  it('Redis down at start: each daemon staples anyway, with one request; once Redis is back, the staple is put in it', async () => {
    await redis.stop();
    const count = responder.requestCount;
    const a = await host('down-a');
    const b = await host('down-b');
    await waitFor('both staple files', () => existsSync(a.stapleFile) && existsSync(b.stapleFile));
    assert.equal(responder.requestCount - count, 2, 'one request per daemon');
    assert.equal(said(a, 'redis is unreachable'), 1);
    await redis.run();
    await waitFor('the staple put in Redis', () => inRedis(a));
    await waitFor('both say so', () => said(a, 'redis is reachable again') === 1 && said(b, 'redis is reachable again') === 1);
    assert.equal(responder.requestCount - count, 2, 'no request for that');
    await Promise.all([stop(a), stop(b)]);
  });

  it('Redis killed mid-run and back empty: the staple file stays and is refreshed, one line each way, and Redis gets the staple back', async () => {
    const a = await host('killed-a');
    const b = await host('killed-b');
    await waitFor('both staple files', () => existsSync(a.stapleFile) && existsSync(b.stapleFile));
    await waitFor('in Redis', () => inRedis(a));
    await redis.stop();
    const count = responder.requestCount;
    await refreshed(a);
    await refreshed(b);
    assert.equal(responder.requestCount - count, 2, 'each daemon fetched once for itself');
    await redis.run();
    await waitFor('the staple put back in Redis', () => inRedis(a));
    await waitFor('recovery logged', () => said(a, 'redis is reachable again') === 1);
    for (const h of [a, b]) {
      assert.equal(said(h, 'redis is unreachable'), 1, 'one line when it failed');
      assert.equal(said(h, 'the store is failing'), 0, 'and none from the engine (that line is the Redis store’s)');
    }
    await Promise.all([stop(a), stop(b)]);
  });

  it('Redis hung (SIGSTOP): staple files are still written and the daemon picks up a new certificate, with no wait on Redis', async () => {
    const a = await host('hung-a');
    await waitFor('the staple file', () => existsSync(a.stapleFile));
    const count = responder.requestCount;
    redis.pause();
    try {
      await refreshed(a);
      const extra = await issue({ name: 'hung-new.test', issuer: pki.intermediate, ocspUrls: [responder.url] });
      responder.serve(pki, [extra]);
      await writeFile(join(a.dir, 'certs', 'site-new.pem'), fullchain(extra, pki.intermediate));
      await waitFor('the new certificate stapled while Redis hangs', () => existsSync(join(a.dir, 'certs', 'site-new.pem.ocsp')));
      assert.equal(responder.requestCount - count, 2, 'one request per certificate');
      assert.equal(said(a, 'redis is unreachable'), 1);
    } finally {
      redis.resume();
    }
    await waitFor('recovery logged', () => said(a, 'redis is reachable again') === 1);
    await stop(a);
  });

  it('Redis flushed: the staples are put back', async () => {
    const a = await host('flushed-a');
    await waitFor('the staple in Redis', () => existsSync(a.stapleFile) && inRedis(a));
    const count = responder.requestCount;
    redis.cli('FLUSHALL');
    await waitFor('the staple put back in Redis', () => inRedis(a));
    assert.equal(responder.requestCount, count, 'with no request');
    await stop(a);
  });

  it('a daemon restarted while Redis is down staples from its own directory at once, with no request', async () => {
    const a = await host('restart-a');
    await waitFor('the staple file', () => existsSync(a.stapleFile));
    await stop(a);
    await redis.stop();
    await rm(a.stapleFile);
    const count = responder.requestCount;
    const again = await host('restart-a');
    await waitFor('the staple file written again', () => existsSync(again.stapleFile));
    assert.equal(responder.requestCount, count, 'no request');
    await stop(again);
    await redis.run();
  });
});
