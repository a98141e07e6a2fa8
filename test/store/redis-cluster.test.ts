// RedisStore on a real three-node Redis Cluster: staples and leases of certificates spread over
// the slots, the scripts (which touch one slot each), and the change feed across nodes.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RedisStore } from '../../src/store/redis-store.ts';
import { redisMissing, startCluster, type RedisServer } from '../support/redis-server.ts';
import { waitFor } from '../support/wait.ts';

const missing = redisMissing();
if (missing) console.log(`# skipping the Redis Cluster test: ${missing}`);

describe('RedisStore on a three-node Redis Cluster', { skip: missing ?? false }, () => {
  let dir: string;
  let nodes: RedisServer[] = [];
  const stores: RedisStore[] = [];
  const store = (seeds: readonly RedisServer[]): RedisStore => {
    const s = new RedisStore({ cluster: { nodes: seeds.map((n) => ({ host: '127.0.0.1', port: n.port })) } });
    stores.push(s);
    return s;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stapler-cluster-redis-'));
    nodes = await startCluster(dir);
  });
  after(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await Promise.all(nodes.map((n) => n.stop()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('saves, loads and leases certificates on every node, and tells the other hosts', async () => {
    const a = store(nodes);
    const b = store([nodes[1]!]);
    const keys = [...'0123456789abcdef'].map((c) => c.repeat(64));
    for (const key of keys) {
      const der = Buffer.from(key.slice(0, 8), 'hex');
      await a.save(key, der, Date.now() + 60_000);
      assert.deepEqual(await b.load(key), der, `loaded ${key.slice(0, 4)}… through another node`);
      const lease = await a.acquire(key, 30_000);
      assert.ok(lease);
      assert.equal(await b.acquire(key, 30_000), null, 'one holder across the cluster');
      await lease.release();
    }
    const slots = new Set(keys.map((k) => nodes[0]!.cli('CLUSTER', 'KEYSLOT', a.stapleKey(k))));
    assert.ok(slots.size > 8, 'the keys are spread over the slots');
    const seen = new Set<string>();
    b.watch((key) => seen.add(key));
    await waitFor('pub/sub across the cluster', async () => {
      await a.save(keys[3]!, Buffer.from([1, 2, 3]), Date.now() + 60_000);
      return seen.has(keys[3]!);
    });
  });
});
