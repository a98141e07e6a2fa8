// A Java (JSSE) TLS server stapling through the daemon: jdk.tls.stapling.responderURI with
// responderOverride sends every OCSP request to the daemon, which answers from memory. The JDK
// fetches inside the handshake (up to jdk.tls.stapling.responseTimeout) and caches good answers.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Behaviour } from '../support/responder.ts';
import { jdkStaplingProperties, makeKeystore, noJava, startJavaServer } from '../support/java-server.ts';
import { freePort, PeerRig, QUICK_FAILURES, sleep, stapledSerial, timedHandshake, SECOND, waitUntilUnstapledAtExpiry } from '../support/peer-rig.ts';
import { opensslStatus } from '../support/tls.ts';
import { waitFor } from '../support/wait.ts';

if (noJava) console.log(`# skipping Java: ${noJava}`);

const rig = new PeerRig();
before(() => rig.open());
after(() => rig.closeAll());

/** The server with the properties of docs/servers/java.md, and a 1 s cache so that the test sees it re-ask. */
async function java(dir: string, responderUrl: string): Promise<number> {
  const port = await freePort();
  const keystore = await makeKeystore(dir, rig.pki.leaf, [rig.pki.intermediate]);
  const server = await startJavaServer({ dir, port, keystore, properties: jdkStaplingProperties(responderUrl, { cacheLifetimeSeconds: 1 }) });
  rig.cleanups.push(() => server.stop());
  return port;
}

async function stapledGood(port: number): Promise<void> {
  const s = await opensslStatus(port);
  assert.equal(s.certStatus, 'good', s.output);
  assert.equal(stapledSerial(s), rig.pki.leaf.cert.serialHex);
}

describe('a Java (JSSE) server through the daemon', { skip: noJava }, () => {
  after(() => rig.close());

  it('staples from the first handshake, through an outage past its own cache, and stops at nextUpdate', async () => {
    const { dir } = await rig.site('java-outage');
    rig.responder.validityMs = 60 * SECOND + 12 * SECOND; // nextUpdate in 12 s
    const { daemon, url } = await rig.readyDaemon(dir, { skewMs: 0 });
    const port = await java(dir, url);
    await stapledGood(port);
    // A fresh staple now that the JVM is up (its start may take seconds on a loaded machine),
    // so that the outage below runs well inside its window.
    const asked = rig.responder.requestCount;
    await daemon.refreshAll();
    assert.ok(rig.responder.requestCount > asked);
    for (const b of ['reset', 'tryLater', 'http-500'] as const satisfies readonly Behaviour[]) {
      rig.responder.behaviour = b;
      await daemon.refreshAll();
      await sleep(1.2 * SECOND); // past jdk.tls.stapling.cacheLifetime (1 s here)
      await stapledGood(port);
    }
    await waitUntilUnstapledAtExpiry(port, 'Java');
  });

  it('never staples what a CA answers wrong-serial, badly signed, expired or unknown', async () => {
    const { dir } = await rig.site('java-bad');
    rig.responder.behaviour = 'wrong-serial';
    const { daemon, url } = await rig.readyDaemon(dir, QUICK_FAILURES);
    const port = await java(dir, url);
    for (const b of ['wrong-serial', 'bad-signature', 'expired', 'unknown'] as const satisfies readonly Behaviour[]) {
      rig.responder.behaviour = b;
      const asked = rig.responder.requestCount;
      await daemon.refreshAll();
      assert.ok(rig.responder.requestCount > asked, `the daemon asked the CA (${b})`);
      for (let i = 0; i < 2; i++) assert.equal((await opensslStatus(port)).stapled, false, b);
    }
    rig.responder.behaviour = 'good';
    await daemon.refreshAll();
    await stapledGood(port); // the control: the JDK does not cache the daemon's 503
  });

  it('never slows a handshake while the CA hangs', async () => {
    const { dir } = await rig.site('java-hang');
    // The CA hangs until the test lets go: every handshake must end while the daemon's fetch is
    // still hanging (an event, not a time limit).
    const timeoutMs = 60 * SECOND;
    const { daemon, url } = await rig.readyDaemon(dir, { timeoutMs, deadlineMs: timeoutMs });
    const port = await java(dir, url);
    await stapledGood(port);
    rig.responder.behaviour = 'hang';
    const asked = rig.responder.requestCount;
    let caGaveUp = false;
    const refreshing = daemon.refreshAll().finally(() => (caGaveUp = true));
    await waitFor('the daemon to ask the hanging CA', () => rig.responder.requestCount > asked);
    try {
      for (let i = 0; i < 5; i++) {
        const h = await timedHandshake(port);
        assert.ok(h.stapled, 'stapled while the CA hangs');
        assert.equal(caGaveUp, false, 'a handshake ended only once the CA fetch ended: it waited for the CA');
        await sleep(400);
      }
    } finally {
      rig.responder.releaseHanging();
      await refreshing;
      rig.responder.behaviour = 'good';
    }
  });
});
