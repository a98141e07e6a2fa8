// A fleet member that is buggy or hostile, or a corrupted Redis value, against a host on two
// tiers (its directory under a real redis-server): whatever is planted under the host's key and
// announced, the host keeps stapling its own acceptable staple, its directory copy is never
// replaced, its next honest save goes through, and a restart with the CA and Redis down still
// staples from the directory. At worst, hosts fetch for themselves.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createClient, RESP_TYPES } from 'redis';
import { DirectoryStore } from '../../src/store/directory-store.ts';
import { RedisStore } from '../../src/store/redis-store.ts';
import { TieredStore } from '../../src/store/tiered-store.ts';
import { CountingStore } from '../support/counting-store.ts';
import { DAY, HOUR, makeRig, MIN, type Rig } from '../support/engine-rig.ts';
import { fullchain, makePki, type TestPki } from '../support/pki.ts';
import { freePort, RedisServer, redisMissing } from '../support/redis-server.ts';
import { buildResponse } from '../support/responses.ts';
import { failure } from '../support/scripted-fetcher.ts';
import { waitFor } from '../support/wait.ts';

const missing = redisMissing();
if (missing) console.log(`# skipping the hostile fleet member tests: ${missing}`);
const YEAR_2100 = '4102444800000';

describe('a hostile fleet member, or a corrupted Redis value', { skip: missing ?? false }, () => {
  let pki: TestPki;
  let server: RedisServer;
  let root: string;
  let raw: ReturnType<typeof createClient>;
  /** The staple Redis holds under the host's key (binary). */
  const storedDer = async (id: string): Promise<Buffer | null> => {
    return raw.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }).hGet(stapleKey(id), 'der');
  };

  before(async () => {
    pki = await makePki({ ocspUrl: 'http://127.0.0.1:1/ocsp' });
    server = await RedisServer.start();
    root = await mkdtemp(join(tmpdir(), 'stapler-hostile-'));
    raw = createClient({ url: server.url });
    await raw.connect();
  });
  after(async () => {
    await raw?.close();
    await server?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  interface Host {
    rig: Rig<CountingStore>;
    id: string;
    dir: string;
    good: Buffer;
    /** Publish `id` on the fleet channel and wait until the host has loaded and judged what Redis holds. */
    announce(): Promise<void>;
  }

  async function host(t: { after: (fn: () => Promise<void>) => void }, name: string, url = server.url, prefix = 'stapler:'): Promise<Host> {
    const dir = join(root, name);
    const store = new CountingStore(
      new TieredStore(new DirectoryStore(dir), new RedisStore({ url, keyPrefix: prefix, commandTimeoutMs: 500, connectTimeoutMs: 500 })),
    );
    const rig = makeRig(pki, {}, store);
    t.after(() => rig.stapler.close());
    await rig.stapler.add(fullchain(pki.leaf, pki.intermediate));
    await rig.stapler.idle();
    const id = rig.stapler.status()[0]!.id;
    const good = rig.stapler.stapleById(id);
    assert.ok(good, 'stapled from the CA');
    // Two loads in turn: the first one (its verdict and any put-back included) is then over.
    const announce = async (): Promise<void> => {
      for (let i = 0; i < 2; i++) {
        const before = store.loadsOf(id);
        await raw.publish(`${prefix}changes`, id);
        await waitFor('the host loads what was announced', () => store.loadsOf(id) > before && store.active === 0);
      }
    };
    return { rig, id, dir, good, announce };
  }

  const stapleKey = (id: string, prefix = 'stapler:'): string => `${prefix}{${id}}:staple`;
  const fileOf = (h: Host): Promise<Buffer> => readFile(join(h.dir, `${h.id}.der`));

  /** What each attack plants under the host's key. */
  const attacks: Array<{ name: string; value: () => Buffer; readable?: false }> = [
    { name: 'garbage', value: () => Buffer.from('not an OCSP response at all '.repeat(40)) },
    {
      name: "another certificate's validly signed response",
      value: () =>
        buildResponse({ cert: pki.rsaLeaf, issuer: pki.intermediate, thisUpdate: new Date(Date.now() - MIN), nextUpdate: new Date(Date.now() + 4 * DAY) }),
    },
    {
      name: 'an expired response for this certificate',
      value: () =>
        buildResponse({ cert: pki.leaf, issuer: pki.intermediate, thisUpdate: new Date(Date.now() - 10 * DAY), nextUpdate: new Date(Date.now() - DAY) }),
    },
    { name: 'a value larger than any staple (2 MiB)', value: () => Buffer.alloc(2 * 1024 * 1024, 0x30), readable: false },
  ];

  for (const attack of attacks) {
    it(`${attack.name}, with a forged thisUpdate of year 2100: the host keeps its staple and its directory copy, and its next save goes through`, async (t) => {
      const h = await host(t, `attack-${attacks.indexOf(attack)}`);
      const planted = attack.value();
      await raw.hSet(stapleKey(h.id), { der: planted, tu: YEAR_2100, v: 'forged' });
      await h.announce();
      assert.deepEqual(h.rig.stapler.stapleById(h.id), h.good, 'still stapling its own staple');
      assert.deepEqual(await fileOf(h), h.good, 'its directory copy is untouched');
      if (attack.readable === false) assert.deepEqual(await storedDer(h.id), planted, 'a value too large to read is left to the next save');
      else assert.deepEqual(await storedDer(h.id), h.good, 'a copy newly found unacceptable is replaced once by the verified staple');

      // The next honest save goes through, whatever `tu` says.
      await h.rig.clock.advance(2 * HOUR);
      await h.rig.stapler.refreshById(h.id);
      const fresh = h.rig.stapler.stapleById(h.id)!;
      assert.notDeepEqual(fresh, h.good, 'a new staple');
      assert.deepEqual(await storedDer(h.id), fresh, 'saved to Redis');
      assert.deepEqual(await fileOf(h), fresh, 'and to the directory');
    });
  }

  it('the attack by hand (another certificate, year 2100, published), then a restart with the CA and Redis down: the host staples from its directory', async (t) => {
    const redis = await RedisServer.start();
    t.after(() => redis.stop());
    const h = await host(t, 'restart', redis.url);
    const planted = attacks[1]!.value();
    const client = createClient({ url: redis.url });
    await client.connect();
    await client.hSet(stapleKey(h.id), { der: planted, tu: YEAR_2100 });
    await client.publish('stapler:changes', h.id);
    await client.close();
    await waitFor('the host refuses it', () => h.rig.lines.some((l) => /stored staple is not acceptable/.test(l.message)));
    await h.rig.stapler.close();
    await redis.stop();

    const again = makeRig(
      pki,
      {},
      new TieredStore(new DirectoryStore(h.dir), new RedisStore({ url: redis.url, commandTimeoutMs: 200, connectTimeoutMs: 200 })),
    );
    t.after(() => again.stapler.close());
    again.fetcher.script = () => failure('fetch-network', 'the CA is down');
    await again.stapler.add(fullchain(pki.leaf, pki.intermediate));
    await again.stapler.idle();
    assert.deepEqual(again.stapler.stapleById(h.id), h.good, 'stapled from its directory');
  });

  it('a Redis value that is not a hash at all: loads say so, the host keeps its staple, and the next save replaces it', async (t) => {
    const h = await host(t, 'wrong-type');
    await raw.del(stapleKey(h.id));
    await raw.set(stapleKey(h.id), 'a string, not a hash');
    await h.announce();
    assert.deepEqual(h.rig.stapler.stapleById(h.id), h.good);
    assert.deepEqual(await fileOf(h), h.good);
    await assert.rejects((h.rig.store.inner as TieredStore).shared.load(h.id), /is not a hash/);
    await h.rig.clock.advance(2 * HOUR);
    await h.rig.stapler.refreshById(h.id);
    assert.deepEqual(await storedDer(h.id), h.rig.stapler.stapleById(h.id));
  });

  it('an older acceptable copy in Redis (a lagging member, a stale replica) is replaced by the newer staple the host holds', async (t) => {
    const h = await host(t, 'older');
    const older = buildResponse({
      cert: pki.leaf,
      issuer: pki.intermediate,
      thisUpdate: new Date(h.rig.clock.now() - HOUR),
      nextUpdate: new Date(h.rig.clock.now() + DAY),
    });
    await raw.hSet(stapleKey(h.id), { der: older, tu: YEAR_2100 });
    await h.announce();
    assert.deepEqual(await storedDer(h.id), h.good, 'the newer staple is back in Redis');
    assert.deepEqual(h.rig.stapler.stapleById(h.id), h.good);
  });

  it('two fleets on one Redis with the same key prefix, one accepting what the other refuses (SHA-1 signatures): each keeps its own staple, with no write war', async (t) => {
    const strict = await host(t, 'fleet-strict');
    const lax = makeRig(
      pki,
      { allowSha1Signatures: true },
      new CountingStore(new TieredStore(new DirectoryStore(join(root, 'fleet-lax')), new RedisStore({ url: server.url }))),
    );
    t.after(() => lax.stapler.close());
    lax.fetcher.script = () => ({
      ok: true,
      der: lax.respond(pki.leaf, { signatureHash: 'sha1', thisUpdate: new Date(lax.clock.now()) }),
      url: 'http://127.0.0.1:9/ocsp',
      maxAgeSeconds: null,
    });
    await lax.stapler.add(fullchain(pki.leaf, pki.intermediate));
    await lax.stapler.refreshById(strict.id);
    const laxStaple = lax.stapler.stapleById(strict.id)!;
    assert.ok(laxStaple, 'the lax fleet staples its SHA-1 signed response');

    // Every write to Redis by a store (save or put-back) counts a change.
    const writes = (): number => Number(/cmdstat_incr:calls=(\d+)/.exec(server.cli('INFO', 'commandstats'))?.[1] ?? 0);
    await strict.announce();
    assert.deepEqual(strict.rig.stapler.stapleById(strict.id), strict.good, 'the strict fleet keeps its own');
    assert.deepEqual(await fileOf(strict), strict.good);
    // Each fleet may put its own staple back once over what it just refused; then neither writes again.
    await waitFor('no write war', async () => {
      const before = writes();
      await strict.announce();
      return writes() === before;
    });
    assert.deepEqual(lax.stapler.stapleById(strict.id), laxStaple, 'the lax fleet keeps its own too');
    const stored = await storedDer(strict.id);
    assert.ok(stored?.equals(laxStaple) || stored?.equals(strict.good), 'Redis holds one of the two');
  });

  it('announcements for certificates a host does not manage, and ids that are not certificate ids, change nothing', async (t) => {
    const h = await host(t, 'unknown-ids');
    const loads = h.rig.store.loadsOf(h.id);
    const other = createHash('sha256').update('another fleet').digest('hex');
    for (const message of [other, 'not-an-id', 'x'.repeat(100_000)]) await raw.publish('stapler:changes', message);
    await h.announce();
    assert.equal(h.rig.store.loadsOf(other), 0, 'no load for a certificate it does not manage');
    assert.equal(h.rig.store.loadsOf(h.id) - loads, 2, 'only its own announcements');
  });

  it('with Redis unreachable from the start, the host still fetches and staples by itself', async (t) => {
    const h = await host(t, 'nowhere', `redis://127.0.0.1:${await freePort()}`);
    assert.deepEqual(h.rig.stapler.stapleById(h.id), h.good);
  });
});
