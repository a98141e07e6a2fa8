// A flood of change notifications (anyone who can PUBLISH can send 50,000 for one certificate):
// the host loads each certificate at most once at a time, and the flood is logged once when it
// starts and once when it ends, with its counts. Loads are counted, not timed.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createClient } from 'redis';
import { DirectoryStore } from '../../src/store/directory-store.ts';
import { FLOOD_PER_SECOND } from '../../src/store/redis-feed.ts';
import { RedisStore } from '../../src/store/redis-store.ts';
import { TieredStore } from '../../src/store/tiered-store.ts';
import { CountingStore } from '../support/counting-store.ts';
import { captureLogger, makeRig } from '../support/engine-rig.ts';
import { fullchain, makePki, type TestPki } from '../support/pki.ts';
import { RedisServer, redisMissing } from '../support/redis-server.ts';
import { waitFor } from '../support/wait.ts';

const missing = redisMissing();
if (missing) console.log(`# skipping the change flood test: ${missing}`);
const MESSAGES = 50_000;

describe('a flood of change notifications', { skip: missing ?? false }, () => {
  let pki: TestPki;
  let server: RedisServer;
  let root: string;

  before(async () => {
    pki = await makePki({ ocspUrl: 'http://127.0.0.1:1/ocsp' });
    server = await RedisServer.start();
    root = await mkdtemp(join(tmpdir(), 'stapler-flood-'));
  });
  after(async () => {
    await server?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it(`${MESSAGES.toLocaleString('en-US')} PUBLISHes of one managed id: one load at a time for it, a fraction of a load per message, and one log line each way`, async (t) => {
    const { logger, lines } = captureLogger();
    const redis = new RedisStore({ url: server.url, logger });
    const store = new CountingStore(new TieredStore(new DirectoryStore(join(root, 'host')), redis));
    const rig = makeRig(pki, {}, store);
    t.after(() => rig.stapler.close());
    await rig.stapler.add(fullchain(pki.leaf, pki.intermediate));
    await rig.stapler.idle();
    const id = rig.stapler.status()[0]!.id;
    assert.ok(rig.stapler.stapleById(id));
    const before = store.loadsOf(id);
    store.maxActiveOfOneKey = 0;

    const publisher = createClient({ url: server.url });
    await publisher.connect();
    t.after(() => publisher.close());
    const t0 = Date.now();
    for (let i = 0; i < MESSAGES; i += 1_000) await Promise.all(Array.from({ length: 1_000 }, () => publisher.publish('stapler:changes', id)));
    if (process.env.DEBUG_FLOOD) console.log('published in', Date.now() - t0, 'ms', redis.changeCounts, store.loadsOf(id) - before);
    await waitFor('every notification received', () => redis.changeCounts.received >= MESSAGES, 60_000);
    await waitFor('the loads done', () => store.active === 0);

    const loads = store.loadsOf(id) - before;
    assert.equal(store.maxActiveOfOneKey, 1, 'never two loads of one certificate at once');
    assert.ok(loads >= 1 && loads <= MESSAGES / 50, `${loads} loads for ${MESSAGES} notifications`);
    assert.ok(redis.changeCounts.coalesced >= MESSAGES - loads - FLOOD_PER_SECOND, JSON.stringify(redis.changeCounts));
    assert.deepEqual(rig.stapler.stapleById(id) !== null, true, 'still stapled');

    await waitFor('the end of the flood logged', () => lines.some((l) => l.message === 'the flood of change notifications is over'));
    const flood = lines.filter((l) => /flood of change notifications/.test(l.message));
    assert.deepEqual(
      flood.map((l) => l.level),
      ['warn', 'info'],
      'one line when it starts, one when it ends',
    );
    assert.equal(redis.changeCounts.floods, 1);
    assert.ok((flood[1]!.fields.received as number) > MESSAGES / 2, JSON.stringify(flood[1]!.fields));
  });
});
