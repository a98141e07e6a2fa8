// The cases every real Java server (Tomcat, Jetty) must pass when it staples through the
// daemon's responder, as in test/servers/java-responder.test.ts. The server is started once by
// the test file, its jdk.tls.stapling.responderURI on `daemonPort` and its cacheLifetime 1 s;
// each case starts its own daemon on that port (and stops it), then waits out the JDK's cache so
// that the server asks that daemon.

import assert from 'node:assert/strict';
import { it, type TestContext } from 'node:test';
import type { Daemon } from '../../src/daemon/daemon.ts';
import type { PeerRig } from './peer-rig.ts';
import { QUICK_FAILURES, SECOND, sleep, stapledSerial, timedHandshake, waitUntilUnstapledAtExpiry } from './peer-rig.ts';
import type { Behaviour } from './responder.ts';
import { opensslStatus } from './tls.ts';
import { waitFor } from './wait.ts';

/** Past the servers' jdk.tls.stapling.cacheLifetime (1 s in these tests). */
const PAST_JDK_CACHE = 1.2 * SECOND;

export interface JsseServer {
  /** The server's HTTPS port. */
  readonly port: number;
  /** The port its responderURI names. */
  readonly daemonPort: number;
}

export function jssePeerCases(name: string, rig: PeerRig, server: () => JsseServer): void {
  async function stapledGood(tls: '1.2' | '1.3' = '1.3'): Promise<void> {
    const s = await opensslStatus(server().port, { tls });
    assert.equal(s.certStatus, 'good', s.output);
    assert.equal(stapledSerial(s), rig.pki.leaf.cert.serialHex);
  }

  /** A daemon on the server's responder port, stopped when the test ends. */
  async function daemonFor(t: TestContext, site: string, settings: Record<string, unknown> = {}, ca: () => void = () => {}): Promise<Daemon> {
    const { dir } = await rig.site(site); // the CA back to good, 24 h responses
    ca();
    const { daemon } = await rig.readyDaemon(dir, settings, server().daemonPort);
    t.after(() => rig.stopDaemon(daemon));
    await sleep(PAST_JDK_CACHE); // what the server cached from an earlier case is gone
    return daemon;
  }

  it(`${name} staples the daemon's staple, and keeps it through a CA outage past its own cache`, async (t) => {
    const daemon = await daemonFor(t, `${name}-outage`);
    await stapledGood('1.2'); // TLS 1.2's CertificateStatus message
    await stapledGood(); // TLS 1.3's status_request in the certificate entry
    for (const b of ['reset', 'tryLater', 'http-500'] as const satisfies readonly Behaviour[]) {
      rig.responder.behaviour = b;
      const asked = rig.responder.requestCount;
      await daemon.refreshAll();
      assert.ok(rig.responder.requestCount > asked, `the daemon asked the CA (${b})`);
      await sleep(PAST_JDK_CACHE);
      await stapledGood();
    }
  });

  it(`${name} stops stapling at nextUpdate during an outage, never stapling an expired response`, async (t) => {
    // thisUpdate is a minute back: nextUpdate 6 s after the daemon's fetch.
    const daemon = await daemonFor(t, `${name}-expiry`, { skewMs: 0 }, () => (rig.responder.validityMs = 66 * SECOND));
    await stapledGood();
    rig.responder.behaviour = 'http-500';
    await daemon.refreshAll();
    await waitUntilUnstapledAtExpiry(server().port, name);
  });

  it(`${name} never staples what a CA answers wrong-serial, badly signed, expired or unknown`, async (t) => {
    // The daemon starts on a CA that answers badly: it has nothing good to give.
    const daemon = await daemonFor(t, `${name}-bad`, QUICK_FAILURES, () => (rig.responder.behaviour = 'wrong-serial'));
    for (const b of ['wrong-serial', 'bad-signature', 'expired', 'unknown'] as const satisfies readonly Behaviour[]) {
      rig.responder.behaviour = b;
      const asked = rig.responder.requestCount;
      await daemon.refreshAll();
      assert.ok(rig.responder.requestCount > asked, `the daemon asked the CA (${b})`);
      for (let i = 0; i < 2; i++) assert.equal((await opensslStatus(server().port)).stapled, false, b);
    }
    rig.responder.behaviour = 'good';
    await daemon.refreshAll();
    await stapledGood(); // the control: the JDK did not cache the daemon's 503
  });

  it(`${name} never waits for a hanging CA`, async (t) => {
    // The CA hangs until the test lets go: every handshake must end (stapled) while the daemon's
    // fetch still hangs, past the JDK's cache (an event, not a time limit).
    const hangMs = 60 * SECOND;
    const daemon = await daemonFor(t, `${name}-hang`, { timeoutMs: hangMs, deadlineMs: hangMs });
    rig.responder.behaviour = 'hang';
    const asked = rig.responder.requestCount;
    let caGaveUp = false;
    const refreshing = daemon.refreshAll().finally(() => (caGaveUp = true));
    try {
      await waitFor('the daemon to ask the hanging CA', () => rig.responder.requestCount > asked);
      for (let i = 0; i < 3; i++) {
        const h = await timedHandshake(server().port);
        assert.ok(h.stapled, 'stapled while the CA hangs');
        assert.equal(caGaveUp, false, 'a handshake ended only once the CA fetch ended: it waited for the CA');
        await sleep(PAST_JDK_CACHE / 2);
      }
    } finally {
      rig.responder.releaseHanging(); // before t.after stops the daemon
      await refreshing;
    }
  });
}
