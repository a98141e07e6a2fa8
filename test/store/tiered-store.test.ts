// Two tiers (a host's directory under Redis): reads show both copies for the engine to judge;
// while Redis is down, reads come from the directory and its lease keeps one fetch per host.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DirectoryStore } from '../../src/store/directory-store.ts';
import { RedisStore } from '../../src/store/redis-store.ts';
import { TieredStore } from '../../src/store/tiered-store.ts';
import { makePki, type TestPki } from '../support/pki.ts';
import { freePort, RedisServer, redisMissing } from '../support/redis-server.ts';
import { buildResponse } from '../support/responses.ts';

const missing = redisMissing();
if (missing) console.log(`# skipping the tiered store tests: ${missing}`);
const KEY = 'c'.repeat(64);
const HOUR = 3_600_000;

describe('TieredStore', { skip: missing ?? false }, () => {
  let pki: TestPki;
  let server: RedisServer;
  let root: string;
  const opened: TieredStore[] = [];
  const tiered = (dir: string, url = server.url): TieredStore => {
    const t = new TieredStore(new DirectoryStore(join(root, dir)), new RedisStore({ url, commandTimeoutMs: 500, connectTimeoutMs: 500 }));
    opened.push(t);
    return t;
  };
  const response = (thisUpdate: number): Buffer =>
    buildResponse({ cert: pki.leaf, issuer: pki.intermediate, thisUpdate: new Date(thisUpdate), nextUpdate: new Date(thisUpdate + 96 * HOUR) });

  before(async () => {
    pki = await makePki({ ocspUrl: 'http://127.0.0.1:1/ocsp' });
    server = await RedisServer.start();
    root = await mkdtemp(join(tmpdir(), 'stapler-tiered-'));
  });
  after(async () => {
    await Promise.all(opened.map((t) => t.close()));
    await server?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("shows both tiers' copies, judges none, and puts the chosen one back only where it may go", async () => {
    const t = tiered('copies');
    const old = response(Date.now() - 2 * HOUR);
    const recent = response(Date.now() - HOUR);
    await t.local.save(KEY, old, Date.now() + HOUR);
    await t.shared.save(KEY, recent, Date.now() + HOUR);
    const found = await t.loadCopies(KEY);
    assert.deepEqual(found.copies, [old, recent], "the host's own copy first");
    assert.deepEqual(await t.local.load(KEY), old, 'loading writes nothing');
    await found.settle(recent, Date.now() + HOUR, (copy) => copy.equals(old));
    assert.deepEqual(await t.local.load(KEY), recent, 'the chosen copy replaces the one let go');
    await t.shared.delete(KEY);
    assert.deepEqual((await t.loadCopies(KEY)).copies, [recent], 'one copy when both tiers hold the same');
    await (await t.loadCopies(KEY)).settle(recent, Date.now() + HOUR, () => false);
    assert.deepEqual(await t.shared.load(KEY), recent, 'and put back where Redis held nothing');
    await t.shared.save(KEY, old, Date.now() + HOUR);
    await (await t.loadCopies(KEY)).settle(recent, Date.now() + HOUR, () => false);
    assert.deepEqual(await t.shared.load(KEY), old, 'never over a copy the caller did not let go');
    assert.deepEqual(await t.load(KEY), recent, "load: the host's own copy");
    await t.save(KEY, response(Date.now()), Date.now() + HOUR);
    assert.deepEqual(await t.local.load(KEY), await t.shared.load(KEY), 'a save goes to both');
  });

  it('with Redis unreachable: loads come from the directory, and the directory lease keeps one fetcher per host', async () => {
    const nowhere = `redis://127.0.0.1:${await freePort()}`;
    const a = tiered('down', nowhere);
    const b = tiered('down', nowhere);
    const der = response(Date.now());
    await a.local.save(KEY, der, Date.now() + HOUR);
    assert.deepEqual(await b.load(KEY), der);
    await assert.rejects(a.shared.acquire(KEY, 30_000), /not connected/);
    const lease = await a.acquire(KEY, 30_000);
    assert.ok(lease, 'the directory lease');
    assert.equal(await b.acquire(KEY, 30_000), null, 'held by the other worker of this host');
    await lease.release();
    const newer = response(Date.now() + 1_000);
    await a.save(KEY, newer, Date.now() + HOUR); // the Redis store logs its outage itself (once)
    assert.deepEqual(await a.local.load(KEY), newer, 'saved to the tier that works');
  });
});
