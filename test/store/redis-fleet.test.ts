// Several hosts (separate processes, each with its own directory) share one real Redis: between
// them one CA request per certificate; a host that joins later makes none; a new staple reaches
// every host; and a host restarted while Redis is down staples from its disk at once.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FleetMember } from '../../bench/support/fleet-process.ts';
import { fullchain, issue, makePki, type Issued, type TestPki } from '../support/pki.ts';
import { RedisServer, redisMissing } from '../support/redis-server.ts';
import { TestResponder } from '../support/responder.ts';

const missing = redisMissing();
if (missing) console.log(`# skipping the Redis fleet test: ${missing}`);
const CERTS = 3;

describe('a fleet sharing one Redis', { skip: missing ?? false }, () => {
  let pki: TestPki;
  let responder: TestResponder;
  let redis: RedisServer;
  let root: string;
  let chains: string;
  const members: FleetMember[] = [];
  const member = (name: string): FleetMember => {
    const m = new FleetMember(redis.url, join(root, name), chains, 1_000);
    members.push(m);
    return m;
  };

  before(async () => {
    responder = new TestResponder();
    pki = await makePki({ ocspUrl: await responder.listen() });
    const leaves: Issued[] = [];
    for (let i = 0; i < CERTS; i++) leaves.push(await issue({ name: `fleet-${i}.test`, issuer: pki.intermediate, ocspUrls: [responder.url] }));
    responder.serve(pki, leaves);
    redis = await RedisServer.start();
    root = await mkdtemp(join(tmpdir(), 'stapler-fleet-'));
    chains = join(root, 'chains.json');
    await writeFile(chains, JSON.stringify(leaves.map((l) => fullchain(l, pki.intermediate))));
  });
  after(async () => {
    await Promise.all(members.map((m) => m.stop()));
    await redis?.stop();
    await responder?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('makes one CA request per certificate between its hosts, staples everywhere, and propagates a new staple', async () => {
    const hosts = [member('a'), member('b'), member('c')];
    const ready = await Promise.all(hosts.map((h) => h.next('ready')));
    for (const r of ready) assert.equal(r.served, CERTS, 'every host staples every certificate');
    assert.equal(responder.requestCount, CERTS, 'one request per certificate across the fleet');

    const late = member('late');
    assert.equal((await late.next('ready')).served, CERTS, 'a host that joins later is stapled from Redis');
    assert.equal(responder.requestCount, CERTS, 'with no request');

    // GeneralizedTime has seconds: make the next response visibly newer (the responder's clock, not a sleep).
    responder.advance(1_000);
    const before = Date.now();
    hosts[0]!.send('refresh');
    await hosts[0]!.next('refreshed');
    assert.equal(responder.requestCount, 2 * CERTS, 'the forced refresh fetched each certificate once');
    hosts[0]!.send('status');
    const target = (await hosts[0]!.next('status')).minThisUpdate as number;
    assert.ok(target >= Math.floor(before / 1000) * 1000 - 60_000);
    for (const h of [hosts[1]!, hosts[2]!, late]) h.send(`expect ${target}`);
    await Promise.all([hosts[1]!, hosts[2]!, late].map((h) => h.next('caught-up', 15_000)));
    assert.equal(responder.requestCount, 2 * CERTS, 'the others adopted it without a request');
  });

  it('a host restarted while Redis is down staples from its own directory at once, with no request', async () => {
    const a = members[0]!;
    await a.stop();
    await redis.stop();
    const count = responder.requestCount;
    const again = member('a');
    const ready = await again.next('ready', 30_000);
    assert.equal(ready.served, CERTS, 'stapled from disk');
    assert.ok((ready.ms as number) < 15_000, `ready in ${String(ready.ms)} ms`);
    assert.equal(responder.requestCount, count, 'no request: the staples on disk are fresh');
    await redis.run();
  });
});
