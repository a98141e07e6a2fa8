// A save Redis refuses while it answers (maxmemory reached with noeviction): the connection is
// up, so its outage log says nothing; the store logs the refusal once, with the reason, and once
// when saves are accepted again — never once per save.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisStore } from '../../src/store/redis-store.ts';
import { captureLogger } from '../support/log-capture.ts';
import { makePki, type TestPki } from '../support/pki.ts';
import { RedisServer, redisMissing } from '../support/redis-server.ts';
import { buildResponse } from '../support/responses.ts';

const missing = redisMissing();
const HOUR = 3_600_000;
let pki: TestPki;
let server: RedisServer;

describe('RedisStore: a save Redis refuses', { skip: missing ?? false }, () => {
  before(async () => {
    pki = await makePki({ ocspUrl: 'http://127.0.0.1:1/ocsp' });
    server = await RedisServer.start(['--maxmemory-policy', 'noeviction']);
  });
  after(async () => {
    await server?.stop();
  });

  it('is logged once when refusals start, with the reason, and once when saves are accepted again', async () => {
    const { logger, lines } = captureLogger();
    const store = new RedisStore({ url: server.url, logger, commandTimeoutMs: 2_000, connectTimeoutMs: 2_000 });
    try {
      const der = (t: number): Buffer =>
        buildResponse({ cert: pki.leaf, issuer: pki.intermediate, thisUpdate: new Date(t), nextUpdate: new Date(t + 96 * HOUR) });
      const now = Date.now();
      await store.save('a'.repeat(64), der(now - 3 * HOUR), now + 90 * HOUR);
      server.cli('CONFIG', 'SET', 'maxmemory', '1'); // any used memory is over it: every write is refused
      for (const [i, key] of ['b', 'c', 'd'].entries()) await assert.rejects(store.save(key.repeat(64), der(now - 2 * HOUR + i), now + 90 * HOUR), /OOM/);
      const refusing = lines.filter((l) => l.message.includes('refuses to save'));
      assert.equal(refusing.length, 1, 'once, not once per save');
      assert.equal(refusing[0]!.level, 'warn');
      assert.match(String(refusing[0]!.fields.err), /OOM command not allowed/, 'with the reason');
      assert.equal(lines.filter((l) => l.message.includes('unreachable')).length, 0, 'not an outage');
      server.cli('CONFIG', 'SET', 'maxmemory', '0');
      const fresh = der(now - HOUR);
      await store.save('b'.repeat(64), fresh, now + 90 * HOUR);
      await store.save('c'.repeat(64), der(now - HOUR), now + 90 * HOUR);
      assert.equal(lines.filter((l) => l.message.includes('accepts saves again')).length, 1, 'once when accepted again');
      assert.ok((await store.load('b'.repeat(64)))?.equals(fresh) ?? false, 'and saves land again');
    } finally {
      await store.close();
    }
  });
});
