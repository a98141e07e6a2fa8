// RedisStore against a real redis-server: the StapleStore contract, "a save replaces whatever is
// there, a put-back only what was read", expiry at nextUpdate, the change feed, and each fault a fleet meets.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisStore } from '../../src/store/redis-store.ts';
import { TieredStore } from '../../src/store/tiered-store.ts';
import { silentLogger } from '../../src/engine/logger.ts';
import { resolveStore } from '../../src/wiring/defaults.ts';
import { captureLogger } from '../support/engine-rig.ts';
import { makePki, type TestPki } from '../support/pki.ts';
import { RedisServer, redisMissing } from '../support/redis-server.ts';
import { buildResponse } from '../support/responses.ts';
import { waitFor } from '../support/wait.ts';

const missing = redisMissing();
if (missing) console.log(`# skipping the Redis store tests: ${missing}`);

const KEY = 'e'.repeat(64);
const OTHER = 'f'.repeat(64);
const HOUR = 3_600_000;
let pki: TestPki;
let server: RedisServer;
const stores: RedisStore[] = [];

function store(url = server.url, extra: Partial<ConstructorParameters<typeof RedisStore>[0] & object> = {}): RedisStore {
  const s = new RedisStore({ url, commandTimeoutMs: 500, connectTimeoutMs: 1_000, ...extra });
  stores.push(s);
  return s;
}

function response(thisUpdate: number): Buffer {
  return buildResponse({ cert: pki.leaf, issuer: pki.intermediate, thisUpdate: new Date(thisUpdate), nextUpdate: new Date(thisUpdate + 96 * HOUR) });
}

after(async () => {
  await Promise.all(stores.map((s) => s.close()));
});

describe('RedisStore', { skip: missing ?? false }, () => {
  before(async () => {
    pki = await makePki({ ocspUrl: 'http://127.0.0.1:1/ocsp' });
    server = await RedisServer.start();
  });
  after(async () => {
    await server?.stop();
  });

  it('gives a lease to one holder; only the holder renews or releases it; an expired lease is taken over', async () => {
    const a = store();
    const b = store();
    const first = await a.acquire(KEY, 30_000);
    assert.ok(first, 'acquired');
    assert.equal(await b.acquire(KEY, 30_000), null, 'held');
    const ttl = Number(server.cli('PTTL', a.leaseKey(KEY)));
    assert.ok(ttl > 29_000 && ttl <= 30_000, `lease TTL set atomically with the lease (${ttl})`);
    assert.equal(await first.renew(), true);
    server.cli('DEL', a.leaseKey(KEY)); // what its expiry does
    const second = await b.acquire(KEY, 30_000);
    assert.ok(second, 'taken over once expired');
    assert.equal(await first.renew(), false, 'the old holder cannot renew it');
    await first.release();
    assert.equal(await a.acquire(KEY, 30_000), null, "the old holder's release left the new lease alone");
    await second.release();
    assert.ok(await a.acquire(KEY, 30_000), 'released by its holder');
    server.cli('DEL', a.leaseKey(KEY));
    await assert.rejects(a.acquire(KEY, 0), /lease TTL must be a positive number/);
  });

  it('a save replaces whatever Redis holds (no stored field can refuse it), and expires the staple at its expiresAt', async () => {
    const a = store();
    const now = Date.now();
    const older = response(now - 2 * HOUR);
    const newer = response(now - HOUR);
    await a.save(KEY, newer, now + 10 * HOUR);
    server.cli('HSET', a.stapleKey(KEY), 'tu', '4102444800000'); // what the old SAVE_IF_NEWER trusted
    await a.save(KEY, older, now + 20 * HOUR);
    assert.deepEqual(await a.load(KEY), older, 'the engine decides what is newer, not Redis');
    assert.equal(server.cli('HEXISTS', a.stapleKey(KEY), 'tu'), '0', 'the whole hash is replaced');
    const ttl = Number(server.cli('PTTL', a.stapleKey(KEY)));
    assert.ok(Math.abs(ttl - 20 * HOUR) < 60_000, `expires at expiresAt (PTTL ${ttl})`);
    await a.delete(KEY);
    assert.equal(await a.load(KEY), null);
  });

  it('settle puts the chosen staple back only where Redis still holds what was read, and only over a copy let go', async () => {
    const a = store();
    const b = store();
    const now = Date.now();
    const older = response(now - 2 * HOUR);
    const newer = response(now - HOUR);
    const empty = await a.loadCopies(KEY);
    assert.deepEqual(empty.copies, []);
    await empty.settle(newer, now + HOUR, () => false);
    assert.deepEqual(await a.load(KEY), newer, 'put where there was nothing');
    const read = await a.loadCopies(KEY);
    await read.settle(older, now + HOUR, () => false);
    assert.deepEqual(await a.load(KEY), newer, 'not over a copy the caller keeps');
    await b.save(KEY, older, now + HOUR); // another host, between the read and the put-back
    await read.settle(response(now), now + HOUR, () => true);
    assert.deepEqual(await a.load(KEY), older, 'not over a copy it did not read');
    const again = await a.loadCopies(KEY);
    await again.settle(newer, now + HOUR, (copy) => copy.equals(older));
    assert.deepEqual(await a.load(KEY), newer, 'over the copy it read and let go');
    await a.delete(KEY);
  });

  it('keys of one certificate share a Cluster hash slot', () => {
    const a = store();
    assert.equal(server.cli('CLUSTER', 'KEYSLOT', a.stapleKey(KEY)).replace(/\D/g, ''), server.cli('CLUSTER', 'KEYSLOT', a.leaseKey(KEY)).replace(/\D/g, ''));
  });

  it('tells a watcher about another host’s save through pub/sub, and the poll finds what pub/sub lost', async () => {
    const a = store();
    const b = store();
    const seen: string[] = [];
    const stop = b.watch((key) => seen.push(key));
    assert.equal(await b.load(OTHER), null);
    // The subscription starts in the background: save until it hears.
    await waitFor('pub/sub delivers the save', async () => {
      await a.save(OTHER, response(Date.now()), Date.now() + HOUR);
      return seen.includes(OTHER);
    });
    stop();
    // Lost messages: a change with nobody subscribed, found by the poll.
    const c = store();
    const polled: string[] = [];
    c.watch((key) => polled.push(key));
    await c.load(OTHER);
    await c.pollNow(); // the first look records the change counter
    await a.save(OTHER, response(Date.now() + 1000), Date.now() + HOUR);
    polled.length = 0;
    // Drop what pub/sub may have delivered, then write behind its back as a lost message would.
    server.cli('HSET', a.stapleKey(OTHER), 'v', 'changed');
    server.cli('INCR', 'stapler:generation');
    await c.pollNow();
    await waitFor('the poll reports the change', () => polled.includes(OTHER));
  });

  it('refuses a key that is not a certificate id, naming it', async () => {
    await assert.rejects(store().load('../../etc'), /invalid store key "\.\.\/\.\.\/etc"/);
  });
});

describe('RedisStore faults', { skip: missing ?? false }, () => {
  before(async () => {
    pki ??= await makePki({ ocspUrl: 'http://127.0.0.1:1/ocsp' });
  });

  it('Redis down, then back: fails fast, logs one line down and one line up, whatever the traffic', async () => {
    const srv = await RedisServer.start();
    const { logger, lines } = captureLogger();
    const s = store(srv.url, { logger });
    await s.save(KEY, response(Date.now()), Date.now() + HOUR);
    await srv.stop();
    // Fails fast: with the connection's own error, not by waiting out the command timeout.
    for (let i = 0; i < 20; i++) {
      await assert.rejects(
        s.load(KEY),
        (err: Error) => err.message.includes(`redis redis://127.0.0.1:${srv.port}`) && !/no answer from redis within/.test(err.message),
      );
    }
    await assert.rejects(s.acquire(KEY, 1000));
    assert.equal(lines.filter((l) => l.level === 'warn').length, 1, 'one line when it went down');
    await srv.run(); // restarted empty
    await waitFor(
      'reconnected',
      async () =>
        await s.load(KEY).then(
          () => true,
          () => false,
        ),
    );
    assert.equal(await s.load(KEY), null, 'restarted empty: nothing stored');
    assert.equal(lines.filter((l) => l.level === 'info').length, 1, 'one line when it came back');
    assert.equal(lines.length, 2);
    await s.save(KEY, response(Date.now()), Date.now() + HOUR);
    assert.ok(await s.load(KEY), 'works again (scripts loaded again)');
    await s.close();
    await srv.stop();
  });

  it('Redis hanging (SIGSTOP): every call fails within the command timeout', async () => {
    const srv = await RedisServer.start();
    const s = store(srv.url);
    assert.equal(await s.load(KEY), null);
    srv.pause();
    try {
      // Each call ends by the store's own command timeout (500 ms here), which its error names.
      for (const call of [() => s.load(KEY), () => s.save(KEY, response(Date.now()), Date.now() + HOUR), () => s.acquire(KEY, 1000)]) {
        await assert.rejects(call(), /no answer from redis within 500 ms|could not/);
      }
    } finally {
      srv.resume();
    }
    await waitFor(
      'answers again',
      async () =>
        await s.load(KEY).then(
          () => true,
          () => false,
        ),
    );
    await s.close();
    await srv.stop();
  });

  it('Redis hung: after one call times out, the others fail at once until one answers; one log line each way', async () => {
    const srv = await RedisServer.start();
    const { logger, lines } = captureLogger();
    const s = store(srv.url, { logger });
    assert.equal(await s.load(KEY), null);
    srv.pause();
    try {
      await assert.rejects(s.load(KEY), /no answer from redis within/);
      // At once: the error is the store's "not answering", not a second command timeout.
      for (let i = 0; i < 20; i++) {
        await assert.rejects(s.acquire(KEY, 1000), (err: Error) => /: redis is not answering \(/.test(err.message));
      }
    } finally {
      srv.resume();
    }
    await waitFor('answers again', () =>
      s.load(KEY).then(
        () => true,
        () => false,
      ),
    );
    assert.ok(await s.acquire(KEY, 1000), 'a lease again');
    const states = lines.filter((l) => l.level !== 'debug').map((l) => l.message);
    assert.deepEqual(
      states.map((m) => m.split(':')[0]),
      ['redis is unreachable', 'redis is reachable again'],
      states.join('\n'),
    );
    await s.close();
    await srv.stop();
  });

  it('Redis flushed: loads find nothing, and saves work again (scripts reloaded)', async () => {
    const srv = await RedisServer.start();
    const s = store(srv.url);
    await s.save(KEY, response(Date.now()), Date.now() + HOUR);
    srv.cli('FLUSHALL');
    srv.cli('SCRIPT', 'FLUSH');
    assert.equal(await s.load(KEY), null);
    await s.save(KEY, response(Date.now()), Date.now() + HOUR);
    assert.ok(await s.load(KEY));
    await s.close();
    await srv.stop();
  });

  it('Redis refusing the password: calls fail naming the store, and the password never appears', async () => {
    const srv = await RedisServer.start(['--requirepass', 'right-secret']);
    const { logger, lines } = captureLogger();
    const s = store(`redis://:wrong-secret@127.0.0.1:${srv.port}`, { logger });
    assert.ok(!s.description.includes('wrong-secret'), s.description);
    assert.match(s.description, /:\*\*\*@/);
    await assert.rejects(s.load(KEY), (err: Error) => /WRONGPASS|invalid.*password|NOAUTH/i.test(err.message) && !err.message.includes('wrong-secret'));
    assert.ok(!JSON.stringify(lines).includes('wrong-secret'));
    const good = store(`redis://:right-secret@127.0.0.1:${srv.port}`);
    assert.equal(await good.load(KEY), null, 'the right password works');
    await s.close();
    await srv.stop();
  });

  it('Redis out of memory: saves fail with the reason, loads still work', async () => {
    const srv = await RedisServer.start();
    const s = store(srv.url);
    const der = response(Date.now());
    await s.save(KEY, der, Date.now() + HOUR);
    srv.cli('CONFIG', 'SET', 'maxmemory', '1');
    await assert.rejects(s.save(OTHER, der, Date.now() + HOUR), /OOM/);
    await assert.rejects(s.acquire(OTHER, 1000), /OOM/);
    assert.deepEqual(await s.load(KEY), der);
    await s.close();
    await srv.stop();
  });

  it('refuses bad options with the item and the reason', () => {
    assert.throws(() => new RedisStore('http://127.0.0.1'), /must start with redis:\/\/ or rediss:\/\//);
    assert.throws(
      () => new RedisStore({ url: 'redis://u:pw@h/x' }),
      (err: Error) => /database number/.test(err.message) && !err.message.includes(':pw@'),
    );
    assert.throws(() => new RedisStore({ commandTimeoutMs: -1 }), /commandTimeoutMs/);
    assert.throws(() => new RedisStore({ keyPrefix: 'a{b' }), /keyPrefix/);
    assert.throws(() => new RedisStore({ cluster: { nodes: [] } }), /cluster needs at least one node/);
  });
});

describe('the store option names Redis by URL', () => {
  it('gives Redis over the default directory for redis:// and rediss://, and refuses other strings', async () => {
    const saved = process.env.STAPLER_STORE_DIR;
    process.env.STAPLER_STORE_DIR = '/tmp/stapler-resolve-test';
    try {
      const tiered = resolveStore('redis://:pw@127.0.0.1:1', silentLogger);
      assert.ok(tiered instanceof TieredStore);
      assert.ok(tiered.shared instanceof RedisStore);
      assert.ok(!tiered.description.includes(':pw@'), tiered.description);
      await tiered.close();
      const tls = resolveStore('rediss://127.0.0.1:1', silentLogger);
      assert.match(tls.description, /rediss:\/\//);
      await tls.close();
      assert.throws(
        () => resolveStore('mongodb://u:pw@h', silentLogger),
        (err: Error) => /redis:\/\/ or rediss:\/\//.test(err.message) && !err.message.includes(':pw@'),
      );
    } finally {
      if (saved === undefined) delete process.env.STAPLER_STORE_DIR;
      else process.env.STAPLER_STORE_DIR = saved;
    }
  });
});
