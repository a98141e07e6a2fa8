// HAProxy 2.6's 300 s rule (haproxyWouldIgnore in src/daemon/haproxy.ts), against the real
// HAProxy: a staple valid for less than 300 s is reported by the daemon (the HAProxy output
// failing, WARNING), never "pushed", and HAProxy indeed does not staple it when it is pushed by
// hand; a staple valid just over the bound is pushed by the daemon and stapled. Real time
// throughout: HAProxy judges the window with its own clock. HAProxy runs master-worker (-W) with
// a stats socket, as in real-servers.test.ts.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildConfig } from '../../src/daemon/config.ts';
import { Daemon } from '../../src/daemon/daemon.ts';
import { haproxyWouldIgnore, pushOcspResponse } from '../../src/daemon/haproxy.ts';
import { REPUSH_AFTER_RELOAD_MS } from '../../src/daemon/output-writer.ts';
import { FakeClock } from '../support/fake-clock.ts';
import type { Logger } from '../../src/engine/logger.ts';
import { haproxySite, haproxyWorkerPid, startHaproxy } from '../support/haproxy.ts';
import { peerSkip } from '../support/peers.ts';
import { caRig } from '../support/ca-rig.ts';
import { type TestPki } from '../support/pki.ts';
import type { TestResponder } from '../support/responder.ts';
import { handshake } from '../support/tls.ts';
import { waitFor } from '../support/wait.ts';

const skip = peerSkip('haproxy', 'openssl');
if (skip) console.log(`# skipping HAProxy's validity rule: ${skip}`);

let pki: TestPki;
let responder: TestResponder;
before(async () => ({ pki, responder } = await caRig()));
after(() => responder.close());

/** The responder's window: nextUpdate this far from now (its thisUpdate is a minute ago). */
const windowLeft = (ms: number): number => 60_000 + ms;

describe("HAProxy 2.6's 300 s rule, against the real HAProxy", { skip }, () => {
  it('a staple valid for under 300 s is reported and not pushed, and HAProxy does not staple it; one just over is pushed and stapled', async (t) => {
    const site = await haproxySite(pki, 'stapler-haproxy-validity-');
    const { dir, certFile, socket, port } = site;
    const lines: { level: string; msg: string }[] = [];
    const at =
      (level: string) =>
      (_f: Record<string, unknown>, msg: string): void =>
        void lines.push({ level, msg });
    const logger: Logger = { debug: () => undefined, info: at('info'), warn: at('warn'), error: at('error') };
    responder.validityMs = windowLeft(3_600_000);
    const config = buildConfig(
      {
        certificates: [join(dir, 'certs', '*.pem')],
        stateFile: join(dir, 'state.json'),
        haproxy: { socket },
        responderRatePerSecond: 0,
        refresh: { floorMs: 1_000 },
      },
      dir,
    );
    const daemon = new Daemon(config, { logger });
    t.after(() => daemon.stop());
    await daemon.start();
    // HAProxy 2.6 takes pushes only for certificates it loaded with an .ocsp file: the daemon writes it first.
    await waitFor('the staple file', () => existsSync(`${certFile}.ocsp`));
    await startHaproxy(t, site);
    t.after(() => rm(dir, { recursive: true, force: true }));
    const first = await readFile(`${certFile}.ocsp`);
    await waitFor('HAProxy staples the first staple', async () => (await handshake(port)).staple?.equals(first) === true);

    // 200 s to its nextUpdate: under HAProxy's bound.
    responder.validityMs = windowLeft(200_000);
    await daemon.refreshAll();
    await waitFor('the short staple file', async () => !(await readFile(`${certFile}.ocsp`)).equals(first));
    const short = await readFile(`${certFile}.ocsp`);
    const pushHealth = (): string | null | undefined => daemon.state().files[0]!.outputs.find((o) => o.kind === 'haproxy-push')?.error;
    await waitFor('the HAProxy output judged', () => /less than 300 s/.test(pushHealth() ?? ''));
    const state = daemon.state().files[0]!;
    const push = state.outputs.find((o) => o.kind === 'haproxy-push');
    assert.equal(push?.ok, false, JSON.stringify(state.outputs));
    assert.match(push.error!, /HAProxy does not staple a response valid for less than 300 s/);
    assert.equal(state.verdict, 'WARNING', state.summary);
    assert.equal(lines.filter((l) => l.msg === 'staple pushed to HAProxy').length, 0, 'never "pushed"');
    // HAProxy indeed does not staple it, even pushed by hand: it goes on with the older staple, or none.
    assert.ok(haproxyWouldIgnore(Date.now() + 200_000, Date.now()), 'the rule');
    await pushOcspResponse(socket, short, 5_000).catch(() => undefined);
    for (let i = 0; i < 5; i++) assert.ok(!(await handshake(port)).staple?.equals(short), 'HAProxy does not staple the short staple');

    // 330 s to its nextUpdate: just over the bound (with room for the test's own time).
    responder.validityMs = windowLeft(330_000);
    await daemon.refreshAll();
    await waitFor('the push', () => lines.some((l) => l.msg === 'staple pushed to HAProxy'));
    const long = await readFile(`${certFile}.ocsp`);
    assert.ok(!long.equals(short), 'a new staple');
    await waitFor('HAProxy staples it', async () => (await handshake(port)).staple?.equals(long) === true);
    assert.equal(daemon.state().files[0]!.outputs.find((o) => o.kind === 'haproxy-push')?.ok, true);
    assert.equal(daemon.state().files[0]!.verdict, 'OK');
  });

  it('after a reload it ran, the daemon pushes the current staple again to the new worker (a push lost in the reload is made good)', async (t) => {
    const site = await haproxySite(pki, 'stapler-haproxy-reload-');
    const { dir, certFile, socket, port } = site;
    // The daemon's timers on a fake clock near real time (HAProxy judges windows with its own).
    const clock = new FakeClock(Date.now());
    responder.now = () => clock.now();
    t.after(() => void (responder.now = () => Date.now()));
    responder.validityMs = windowLeft(3_600_000);
    const config = buildConfig(
      {
        certificates: [join(dir, 'certs', '*.pem')],
        stateFile: join(dir, 'state.json'),
        haproxy: { socket },
        reload: { command: site.reloadCommand, debounceMs: 1_000 },
        responderRatePerSecond: 0,
        rescanMs: 3_600_000,
      },
      dir,
    );
    const daemon = new Daemon(config, { logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined }, clock });
    t.after(() => daemon.stop());
    // The first staple cannot be pushed (HAProxy is not up yet): the daemon schedules its reload command.
    await daemon.start();
    await waitFor('the staple file', () => existsSync(`${certFile}.ocsp`));
    const first = await readFile(`${certFile}.ocsp`);
    await startHaproxy(t, site);
    t.after(() => rm(dir, { recursive: true, force: true }));
    const workerPid = (): Promise<string | null> => haproxyWorkerPid(socket);
    const oldWorker = await workerPid();
    assert.ok(oldWorker);

    // A refresh lands while the daemon's reload runs (its debounce passes on the fake clock).
    await clock.advance(2_000);
    await daemon.refreshAll();
    await daemon.settled();
    // The new staple's write waits behind the file's jobs before it (the reload's own check, a push retry).
    await daemon.outputsWritten();
    const current = await readFile(`${certFile}.ocsp`);
    assert.ok(!current.equals(first), 'a new staple');
    await waitFor('the new HAProxy worker', async () => ((await workerPid()) ?? oldWorker) !== oldWorker);
    // The push lost in the reload, made certain: the new worker holds the older staple.
    await pushOcspResponse(socket, first, 5_000);
    await waitFor('HAProxy serves the older staple', async () => (await handshake(port)).staple?.equals(first) === true);
    // The daemon's pushes after its reload (bounded) give the new worker the current staple.
    await clock.advance(REPUSH_AFTER_RELOAD_MS.at(-1)!);
    await waitFor('HAProxy serves the current staple', async () => (await handshake(port)).staple?.equals(current) === true);
  });
});
