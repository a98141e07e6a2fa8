// The HAProxy push's health, against the real HAProxy 2.6: a push HAProxy refused (its socket
// not there yet while it starts, or a certificate it loaded without a staple file) is reported
// failing, and the next push that works clears it, whether the daemon's retry of the refused
// push (no reload command) or its push after the reload command it ran. The daemon's timers run
// on a fake clock near real time (HAProxy judges a response's window with its own clock).

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { buildConfig } from '../../src/daemon/config.ts';
import { Daemon } from '../../src/daemon/daemon.ts';
import { OUTPUT_RETRY_INITIAL_MS, REPUSH_AFTER_RELOAD_MS } from '../../src/daemon/output-writer.ts';
import type { Logger } from '../../src/engine/logger.ts';
import type { OutputHealth } from '../../src/engine/verdict.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { haproxySite, haproxyWorkerPid, startHaproxy, type HaproxySite } from '../support/haproxy.ts';
import { peerSkip } from '../support/peers.ts';
import { caRig } from '../support/ca-rig.ts';
import { type TestPki } from '../support/pki.ts';
import type { TestResponder } from '../support/responder.ts';
import { handshake } from '../support/tls.ts';
import { waitFor } from '../support/wait.ts';

const skip = peerSkip('haproxy', 'openssl');
if (skip) console.log(`# skipping the HAProxy push's health: ${skip}`);

let pki: TestPki;
let responder: TestResponder;
before(async () => {
  ({ pki, responder } = await caRig());
  responder.validityMs = 3_600_000;
});
after(() => responder.close());

interface Rig {
  readonly daemon: Daemon;
  readonly clock: FakeClock;
  /** The debug lines the daemon logged, in order. */
  readonly debug: string[];
  readonly push: () => OutputHealth | undefined;
}

/** The daemon on a fake clock near real time, feeding the site's HAProxy; stopped in `t.after`. */
async function startDaemon(t: TestContext, site: HaproxySite, reload: boolean): Promise<Rig> {
  const clock = new FakeClock(Date.now());
  responder.now = () => clock.now();
  t.after(() => void (responder.now = () => Date.now()));
  const debug: string[] = [];
  const logger: Logger = { debug: (_f, msg) => void debug.push(msg), info: () => undefined, warn: () => undefined, error: () => undefined };
  const config = buildConfig(
    {
      certificates: [join(site.dir, 'certs', '*.pem')],
      stateFile: join(site.dir, 'state.json'),
      haproxy: { socket: site.socket },
      ...(reload ? { reload: { command: site.reloadCommand, debounceMs: 1_500 } } : {}),
      responderRatePerSecond: 0,
      rescanMs: 3_600_000,
    },
    site.dir,
  );
  const daemon = new Daemon(config, { logger, clock });
  t.after(() => daemon.stop());
  await daemon.start();
  const push = (): OutputHealth | undefined => daemon.state().files[0]?.outputs.find((o) => o.kind === 'haproxy-push');
  return { daemon, clock, debug, push };
}

describe("the HAProxy push's health, against the real HAProxy", { skip }, () => {
  it('a push refused while HAProxy starts is retried, and the retry that works clears the failure (no reload command)', async (t) => {
    const site = await haproxySite(pki, 'stapler-haproxy-retry-');
    const { daemon, clock, push } = await startDaemon(t, site, false);
    await waitFor('the staple file', () => existsSync(`${site.certFile}.ocsp`));
    // HAProxy is not up: its stats socket does not exist yet.
    await waitFor('the push reported failing', () => push()?.ok === false);
    assert.match(push()!.error!, /does not exist/);
    assert.equal(daemon.state().files[0]!.verdict, 'WARNING');

    await startHaproxy(t, site);
    t.after(() => rm(site.dir, { recursive: true, force: true }));
    const staple = await readFile(`${site.certFile}.ocsp`);
    await waitFor('HAProxy staples the file it read', async () => (await handshake(site.port)).staple?.equals(staple) === true);
    // No staple change and no reload: only the daemon's retry of the refused push can clear it.
    await clock.advance(OUTPUT_RETRY_INITIAL_MS);
    await waitFor('the retried push clears the failure', () => push()?.ok === true);
    assert.equal(daemon.state().files[0]!.verdict, 'OK');
  });

  it("a push HAProxy refused (a certificate it loaded without a staple file) is cleared by the daemon's push after its reload", async (t) => {
    const site = await haproxySite(pki, 'stapler-haproxy-repush-');
    // HAProxy loads the certificate before any staple file exists: HAProxy 2.6 refuses pushes for it until it reloads.
    await startHaproxy(t, site);
    const oldWorker = await haproxyWorkerPid(site.socket);
    assert.ok(oldWorker);
    const { daemon, clock, debug, push } = await startDaemon(t, site, true);
    t.after(() => rm(site.dir, { recursive: true, force: true }));
    await waitFor('the push reported failing', () => push()?.ok === false);
    assert.match(push()!.error!, /HAProxy refused the response/);
    const start = clock.now();

    // The retry (1 s) comes before the reload (1.5 s debounce), and the old worker refuses it again.
    await clock.advance(OUTPUT_RETRY_INITIAL_MS);
    await waitFor('the retry refused', () => debug.includes('staple not pushed to HAProxy as a retry'));
    await clock.advanceTo(start + 1_500);
    await daemon.settled();
    await waitFor('the new HAProxy worker', async () => ((await haproxyWorkerPid(site.socket)) ?? oldWorker) !== oldWorker);
    assert.equal(push()?.ok, false, 'still failing: nothing has pushed to the new worker yet');

    // The first push after the reload; the next retry is not due until 3 s after the start.
    await clock.advanceTo(start + 1_500 + REPUSH_AFTER_RELOAD_MS[0]);
    assert.ok(clock.now() < start + 3 * OUTPUT_RETRY_INITIAL_MS);
    await waitFor('the push after the reload clears the failure', () => push()?.ok === true);
    assert.ok(debug.includes('staple pushed to HAProxy after the reload'));
    const staple = await readFile(`${site.certFile}.ocsp`);
    await waitFor('HAProxy staples it', async () => (await handshake(site.port)).staple?.equals(staple) === true);
    assert.equal(daemon.state().files[0]!.verdict, 'OK');
  });
});
