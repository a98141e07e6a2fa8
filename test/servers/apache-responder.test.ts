// Apache httpd 2.4 (mod_ssl) stapling through the daemon's OCSP responder, with the directives of
// docs/servers/apache.md (SSLStaplingForceURL and friends). Probed with `openssl s_client -status` and
// `stapler check`. Apache fetches inside the handshake, from whatever SSLStaplingForceURL names:
// here, always the daemon, which answers from memory.

import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseTarget, probe } from '../../src/check/probe.ts';
import { fullchain } from '../support/pki.ts';
import type { Behaviour } from '../support/responder.ts';
import { noApache, startApache, staplingDirectives, type Apache } from '../support/apache.ts';
import { freePort, PeerRig, QUICK_FAILURES, sleep, stapledSerial, timedHandshake, SECOND, waitUntilUnstapledAtExpiry } from '../support/peer-rig.ts';
import { opensslStatus } from '../support/tls.ts';
import { example } from '../support/doc-examples.ts';
import { waitFor } from '../support/wait.ts';

if (noApache) console.log(`# skipping Apache: ${noApache}`);

const rig = new PeerRig();
before(() => rig.open());
after(() => rig.closeAll());

/** Apache with the directives of docs/servers/apache.md, short cache timeouts so that the test sees it re-ask. */
async function apache(
  dir: string,
  certFile: string,
  responderUrl: string,
  port?: number,
  timeouts: { standardCacheTimeout?: number; errorCacheTimeout?: number } = { standardCacheTimeout: 1, errorCacheTimeout: 1 },
): Promise<{ server: Apache; port: number }> {
  const p = port ?? (await freePort());
  const server = await startApache({ dir, port: p, certFile, stapling: staplingDirectives({ responderUrl, ...timeouts }) });
  rig.cleanups.push(() => server.stop());
  return { server, port: p };
}

async function stapledGood(port: number, dir: string): Promise<void> {
  const s = await opensslStatus(port);
  assert.equal(s.responseStatus, 'successful', s.output);
  assert.equal(s.certStatus, 'good', s.output);
  assert.equal(stapledSerial(s), rig.pki.leaf.cert.serialHex);
  const checked = await probe(parseTarget(`127.0.0.1:${port}`), {
    servername: 'leaf.test',
    ca: await readFile(join(dir, 'root.pem')),
    timeoutMs: 5_000,
    now: Date.now,
  });
  assert.ok(checked.ok, checked.summary);
}

describe('Apache httpd through the daemon', { skip: noApache }, () => {
  after(() => rig.close());

  it('staples from the first handshake, and through an outage, tryLater and HTTP 500 well past its own cache timeout', async () => {
    const { dir, certFile } = await rig.site('apache-outage');
    const { daemon, url } = await rig.readyDaemon(dir, QUICK_FAILURES);
    const { port } = await apache(dir, certFile, url);
    await stapledGood(port, dir); // the very first handshake after start
    for (const b of ['reset', 'tryLater', 'http-500'] as const satisfies readonly Behaviour[]) {
      rig.responder.behaviour = b;
      const asked = rig.responder.requestCount;
      await daemon.refreshAll();
      assert.ok(rig.responder.requestCount > asked, `the daemon asked the CA (${b})`);
      // Apache's cache (SSLStaplingStandardCacheTimeout 1 s here) runs out: it asks again.
      await sleep(2.5 * SECOND);
      await stapledGood(port, dir);
    }
  });

  it('stops stapling within seconds once the response reaches nextUpdate during an outage, and never staples it past that', async () => {
    const { dir, certFile } = await rig.site('apache-expiry');
    rig.responder.validityMs = 60 * SECOND + 8 * SECOND; // thisUpdate is a minute back: nextUpdate in 8 s
    const { url } = await rig.readyDaemon(dir, { skewMs: 0 });
    // The page's cache timeouts (60 s, longer than the window): what stops the staple is
    // Apache's own check of nextUpdate with SSLStaplingResponseTimeSkew 1, then the daemon's 503.
    const { port } = await apache(dir, certFile, url, undefined, {});
    await stapledGood(port, dir);
    rig.responder.behaviour = 'http-500';
    await waitUntilUnstapledAtExpiry(port, 'Apache');
    for (let i = 0; i < 3; i++) assert.equal((await opensslStatus(port)).stapled, false);
  });

  it('never staples what a CA answers wrong-serial, badly signed, expired or unknown', async () => {
    const { dir, certFile } = await rig.site('apache-bad');
    rig.responder.behaviour = 'wrong-serial';
    const { daemon, url } = await rig.readyDaemon(dir, QUICK_FAILURES);
    const { port, server } = await apache(dir, certFile, url);
    for (const b of ['wrong-serial', 'bad-signature', 'expired', 'unknown'] as const satisfies readonly Behaviour[]) {
      rig.responder.behaviour = b;
      const asked = rig.responder.requestCount;
      await daemon.refreshAll();
      assert.ok(rig.responder.requestCount > asked, `the daemon asked the CA (${b})`);
      for (let i = 0; i < 2; i++) {
        const s = await opensslStatus(port);
        assert.equal(s.stapled, false, `${b}: ${s.output}`);
      }
      await sleep(1.2 * SECOND); // past Apache's error cache: it asks the daemon again
    }
    // The daemon had no staple to give (503) all along: Apache logs what docs/servers/apache.md says.
    const log = await server.log();
    for (const line of example('apache-log', 'docs/servers/apache.md').code.trim().split('\n')) {
      const pattern = line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\\\.\\\.\\\./g, '.*');
      assert.match(log, new RegExp(pattern), `Apache's error log has: ${line}\n${log}`);
    }
    // The control: once the CA answers well, the same Apache staples.
    rig.responder.behaviour = 'good';
    await daemon.refreshAll();
    await sleep(1.2 * SECOND);
    await stapledGood(port, dir);
    assert.doesNotMatch(await server.log(), /tryLater|trylater/);
  });

  it("staples nothing for a certificate the daemon does not manage (its OCSP 'unauthorized' is not stapled)", async () => {
    const { dir } = await rig.site('apache-unmanaged');
    const { url } = await rig.readyDaemon(dir);
    // Apache serves another certificate of the same CA, which the daemon was not given.
    const other = join(dir, 'other.pem');
    await writeFile(other, fullchain(rig.pki.rsaLeaf, rig.pki.intermediate) + rig.pki.rsaLeaf.keyPem);
    const { port } = await apache(dir, other, url);
    for (let i = 0; i < 3; i++) {
      const s = await opensslStatus(port, { servername: 'rsa.test' });
      assert.equal(s.stapled, false, s.output);
    }
  });

  it('never slows a handshake while the CA hangs', async () => {
    const { dir, certFile } = await rig.site('apache-hang');
    // The CA hangs until the test lets go (the daemon would give up only after a minute): every
    // handshake must end while the daemon's fetch is still hanging, whatever the machine's speed.
    const timeoutMs = 60 * SECOND;
    const { daemon, url } = await rig.readyDaemon(dir, { timeoutMs, deadlineMs: timeoutMs });
    const { port } = await apache(dir, certFile, url);
    const healthy: number[] = [];
    for (let i = 0; i < 5; i++) healthy.push((await timedHandshake(port)).ms);
    rig.responder.behaviour = 'hang';
    const asked = rig.responder.requestCount;
    let caGaveUp = false;
    const refreshing = daemon.refreshAll().finally(() => (caGaveUp = true));
    await waitFor('the daemon to ask the hanging CA', () => rig.responder.requestCount > asked);
    const hanging: number[] = [];
    try {
      for (let i = 0; i < 6; i++) {
        const h = await timedHandshake(port);
        assert.ok(h.stapled, 'stapled while the CA hangs');
        assert.equal(caGaveUp, false, 'a handshake ended only once the CA fetch ended: it waited for the CA');
        hanging.push(h.ms);
        await sleep(300); // past Apache's 1 s cache now and then: it asks the daemon again
      }
    } finally {
      rig.responder.releaseHanging();
      await refreshing;
      rig.responder.behaviour = 'good';
    }
    console.log(
      `# Apache handshakes: healthy CA max ${Math.max(...healthy).toFixed(1)} ms; hanging CA max ${Math.max(...hanging).toFixed(1)} ms over ${hanging.length}`,
    );
  });

  it('staples at once after a restart of both during an outage (the daemon keeps its staples on disk)', async () => {
    const { dir, certFile } = await rig.site('apache-restart');
    const first = await rig.readyDaemon(dir);
    const { server, port } = await apache(dir, certFile, first.url);
    await stapledGood(port, dir);
    rig.responder.behaviour = 'reset';
    await server.stop();
    await rig.stopDaemon(first.daemon);
    // The order docs/daemon.md gives: the daemon first, then Apache.
    await rig.daemon(dir, first.port);
    await apache(dir, certFile, first.url, port);
    await stapledGood(port, dir);
  });
});
