// HAProxy 2.6's 300 s rule (haproxyWouldIgnore in src/daemon/haproxy.ts), against the real
// HAProxy: a staple valid for less than 300 s is reported by the daemon (the HAProxy output
// failing, WARNING), never "pushed", and HAProxy indeed does not staple it when it is pushed by
// hand; a staple valid just over the bound is pushed by the daemon and stapled. Real time
// throughout: HAProxy judges the window with its own clock. HAProxy runs master-worker (-W) with
// a stats socket, as in real-servers.test.ts. After a reload the daemon ran, its pushes give the
// new worker the current staple, and one that works clears a push the old worker had refused
// (HAProxy started before the staple file existed), which otherwise stayed WARNING until the
// next refresh (found by following the docs as a new user).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildConfig } from '../../src/daemon/config.ts';
import { Daemon } from '../../src/daemon/daemon.ts';
import { haproxyCommand, haproxyWouldIgnore, pushOcspResponse } from '../../src/daemon/haproxy.ts';
import { REPUSH_AFTER_RELOAD_MS } from '../../src/daemon/output-writer.ts';
import { FakeClock } from '../support/fake-clock.ts';
import type { Logger } from '../../src/engine/logger.ts';
import { freePort } from '../support/openssl.ts';
import { peerSkip } from '../support/peers.ts';
import { fullchain, makePki, type TestPki } from '../support/pki.ts';
import { TestResponder } from '../support/responder.ts';
import { handshake } from '../support/tls.ts';
import { waitFor } from '../support/wait.ts';

const skip = peerSkip('haproxy', 'openssl');
if (skip) console.log(`# skipping HAProxy's validity rule: ${skip}`);

let pki: TestPki;
const responder = new TestResponder();
before(async () => {
  pki = await makePki({ ocspUrl: await responder.listen() });
  responder.serve(pki);
});
after(() => responder.close());

/** The responder's window: nextUpdate this far from now (its thisUpdate is a minute ago). */
const windowLeft = (ms: number): number => 60_000 + ms;

/** A folder with the leaf (chain and key) and an HAProxy configuration that serves it with a stats socket. */
async function haproxySite(prefix: string): Promise<{ dir: string; certFile: string; socket: string; port: number; cfg: string }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await mkdir(join(dir, 'certs'));
  const certFile = join(dir, 'certs', 'site.pem');
  await writeFile(certFile, fullchain(pki.leaf, pki.intermediate) + pki.leaf.keyPem);
  const socket = join(dir, 'admin.sock');
  const port = await freePort();
  const cfg = join(dir, 'haproxy.cfg');
  await writeFile(
    cfg,
    `global\n  stats socket ${socket} level admin\n  pidfile ${dir}/haproxy.pid\ndefaults\n  mode http\n  timeout connect 5s\n  timeout client 5s\n  timeout server 5s\n` +
      `frontend fe\n  bind 127.0.0.1:${port} ssl crt ${certFile}\n  http-request return status 200 content-type text/plain string ok\n`,
  );
  return { dir, certFile, socket, port, cfg };
}

describe("HAProxy 2.6's 300 s rule, against the real HAProxy", { skip }, () => {
  it('a staple valid for under 300 s is reported and not pushed, and HAProxy does not staple it; one just over is pushed and stapled', async (t) => {
    const { dir, certFile, socket, port, cfg } = await haproxySite('stapler-haproxy-validity-');
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
    const haproxy = spawn('haproxy', ['-W', '-db', '-f', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    haproxy.stdout.on('data', (d: Buffer) => (output += d.toString()));
    haproxy.stderr.on('data', (d: Buffer) => (output += d.toString()));
    t.after(() => new Promise<void>((resolve) => (haproxy.exitCode !== null ? resolve() : (haproxy.once('exit', () => resolve()), haproxy.kill('SIGTERM')))));
    t.after(() => rm(dir, { recursive: true, force: true }));
    await waitFor('HAProxy to start', () => {
      if (haproxy.exitCode !== null) assert.fail(`haproxy exited: ${output}`);
      return existsSync(socket) && /Loading success/i.test(output);
    });
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
    const { dir, certFile, socket, port, cfg } = await haproxySite('stapler-haproxy-reload-');
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
        reload: { command: `kill -USR2 $(cat ${dir}/haproxy.pid)`, debounceMs: 1_000 },
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
    const haproxy = spawn('haproxy', ['-W', '-db', '-f', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    haproxy.stdout.on('data', (d: Buffer) => (output += d.toString()));
    haproxy.stderr.on('data', (d: Buffer) => (output += d.toString()));
    t.after(() => new Promise<void>((resolve) => (haproxy.exitCode !== null ? resolve() : (haproxy.once('exit', () => resolve()), haproxy.kill('SIGTERM')))));
    t.after(() => rm(dir, { recursive: true, force: true }));
    await waitFor('HAProxy to start', () => {
      if (haproxy.exitCode !== null) assert.fail(`haproxy exited: ${output}`);
      return existsSync(socket) && /Loading success/i.test(output);
    });
    const workerPid = async (): Promise<string | null> => /^Pid: (\d+)$/m.exec(await haproxyCommand(socket, 'show info', 2_000).catch(() => ''))?.[1] ?? null;
    const oldWorker = await workerPid();
    assert.ok(oldWorker);

    // A refresh lands while the daemon's reload runs (its debounce passes on the fake clock).
    await clock.advance(2_000);
    await daemon.refreshAll();
    await daemon.settled();
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

  it('HAProxy started first (no staple file to load): the refused push is made good by the reload, and the output is healthy again', async (t) => {
    const { dir, certFile, socket, port, cfg } = await haproxySite('stapler-haproxy-late-');
    const clock = new FakeClock(Date.now());
    responder.now = () => clock.now();
    t.after(() => void (responder.now = () => Date.now()));
    responder.validityMs = windowLeft(3_600_000);
    // HAProxy first, as after a start during a CA outage: it loads the certificate with no .ocsp file.
    const haproxy = spawn('haproxy', ['-W', '-db', '-f', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    haproxy.stdout.on('data', (d: Buffer) => (output += d.toString()));
    haproxy.stderr.on('data', (d: Buffer) => (output += d.toString()));
    t.after(() => new Promise<void>((resolve) => (haproxy.exitCode !== null ? resolve() : (haproxy.once('exit', () => resolve()), haproxy.kill('SIGTERM')))));
    await waitFor('HAProxy to start', () => {
      if (haproxy.exitCode !== null) assert.fail(`haproxy exited: ${output}`);
      return existsSync(socket) && /Loading success/i.test(output);
    });
    const config = buildConfig(
      {
        certificates: [join(dir, 'certs', '*.pem')],
        stateFile: join(dir, 'state.json'),
        haproxy: { socket },
        reload: { command: `kill -USR2 $(cat ${dir}/haproxy.pid)`, debounceMs: 1_000 },
        responderRatePerSecond: 0,
        rescanMs: 3_600_000,
      },
      dir,
    );
    const daemon = new Daemon(config, { logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined }, clock });
    t.after(() => daemon.stop());
    t.after(() => rm(dir, { recursive: true, force: true }));
    await daemon.start();
    const push = (): { ok: boolean; error: string | null } | undefined => daemon.state().files[0]?.outputs.find((o) => o.kind === 'haproxy-push');
    await waitFor('the push refused (HAProxy loaded the certificate without a staple)', () => push()?.ok === false);
    const staple = await readFile(`${certFile}.ocsp`);
    const workerPid = async (): Promise<string | null> => /^Pid: (\d+)$/m.exec(await haproxyCommand(socket, 'show info', 2_000).catch(() => ''))?.[1] ?? null;
    const oldWorker = await workerPid();
    // The reload command instead (its debounce passes on the fake clock): the new worker reads the staple file.
    await clock.advance(2_000);
    await daemon.settled();
    await waitFor('the new HAProxy worker', async () => ((await workerPid()) ?? oldWorker) !== oldWorker);
    await waitFor('HAProxy serves the staple', async () => (await handshake(port)).staple?.equals(staple) === true);
    // The pushes after the reload now work: the output is healthy again, not WARNING until the next refresh.
    await clock.advance(REPUSH_AFTER_RELOAD_MS.at(-1)!);
    await waitFor('the HAProxy output healthy again', () => push()?.ok === true);
    assert.equal(daemon.state().files[0]!.verdict, 'OK', daemon.state().files[0]!.summary);
  });
});
