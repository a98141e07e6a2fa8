// The daemon in-process: real certificate files, a real HTTP responder, a fake clock for the
// engine (so that expiry is a step, not a wait).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it, type TestContext } from 'node:test';
import { buildConfig } from '../../src/daemon/config.ts';
import { Daemon } from '../../src/daemon/daemon.ts';
import { FILE_WITHDRAW_LEAD_MS } from '../../src/daemon/output-writer.ts';
import { captureLogger, type LogLine } from '../support/log-capture.ts';
import type { Logger } from '../../src/engine/logger.ts';
import { verifyResponse } from '../../src/ocsp/verify.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { caRig } from '../support/ca-rig.ts';
import { fullchain, issue, type Issued, type TestPki } from '../support/pki.ts';
import type { TestResponder } from '../support/responder.ts';
import { waitFor } from '../support/wait.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
let pki: TestPki;
let responder: TestResponder;
let dir: string;

// Each test has its own logger and its own daemons, stopped by that test (in its t.after).
let logger: Logger;
let lines: LogLine[];

before(async () => ({ pki, responder } = await caRig()));
after(() => responder.close());
beforeEach(async () => {
  ({ logger, lines } = captureLogger());
  responder.behaviour = 'good';
  responder.now = () => Date.now();
  dir = await mkdtemp(join(tmpdir(), 'stapler-daemon-'));
  await mkdir(join(dir, 'certs'));
});

function stapleFor(leaf: Issued, der: Buffer): boolean {
  return verifyResponse(der, { certificate: leaf.cert, issuer: pki.intermediate.cert, now: Date.now() }).ok;
}

async function startDaemon(t: TestContext, settings: Record<string, unknown> = {}, clock?: FakeClock): Promise<Daemon> {
  const config = buildConfig(
    {
      certificates: [join(dir, 'certs', '*.pem')],
      stateFile: join(dir, 'state.json'),
      storeDir: join(dir, 'store'),
      rescanMs: 100,
      timeoutMs: 1_000,
      // The per-responder rate limit spaces fetches on the daemon's clock: off for the fake clock.
      responderRatePerSecond: 0,
      ...settings,
    },
    dir,
  );
  const daemon = new Daemon(config, { logger, ...(clock ? { clock } : {}) });
  t.after(() => daemon.stop());
  await daemon.start();
  return daemon;
}

describe('stapler daemon', () => {
  it('writes a verified staple beside each certificate: HAProxy files (cert, chain and key) and plain chains', async (t) => {
    await writeFile(join(dir, 'certs', 'site.pem'), fullchain(pki.leaf, pki.intermediate) + pki.leaf.keyPem);
    await writeFile(join(dir, 'certs', 'rsa.pem'), fullchain(pki.rsaLeaf, pki.intermediate));
    const daemon = await startDaemon(t, { nginxInclude: '{cert}.stapling.conf' });
    // The include is written after the staple it names (and turned off before the staple goes).
    // The include exists at once ("off"): wait for it to say "on".
    await waitFor(
      'both staple files and the include, on',
      async () =>
        ['site.pem.ocsp', 'rsa.pem.ocsp'].every((f) => existsSync(join(dir, 'certs', f))) &&
        /ssl_stapling on/.test(await readFile(join(dir, 'certs', 'site.pem.stapling.conf'), 'utf8').catch(() => '')),
    );
    assert.ok(stapleFor(pki.leaf, await readFile(join(dir, 'certs', 'site.pem.ocsp'))));
    assert.ok(stapleFor(pki.rsaLeaf, await readFile(join(dir, 'certs', 'rsa.pem.ocsp'))));
    const include = await readFile(join(dir, 'certs', 'site.pem.stapling.conf'), 'utf8');
    assert.match(include, /ssl_stapling on;\nssl_stapling_file ".*site\.pem\.ocsp";/);
    // The state file, and `stapler status` reading it.
    await daemon.saveState();
    const status = await new Promise<string>((resolve) =>
      execFile(
        process.execPath,
        ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'status', '--all', '--state', join(dir, 'state.json')],
        { cwd: ROOT },
        (_e, out) => resolve(out),
      ),
    );
    assert.match(status, /daemon pid \d+ \(running\)/);
    assert.match(status, /site\.pem\s+stapled/);
    assert.match(status, /rsa\.pem\s+stapled/);
    const json = await new Promise<string>((resolve) =>
      execFile(
        process.execPath,
        ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'status', '--json', '--state', join(dir, 'state.json')],
        { cwd: ROOT },
        (_e, out) => resolve(out),
      ),
    );
    const parsed = JSON.parse(json) as { files: { serial: string; state: string; stapleWritten: boolean }[] };
    assert.deepEqual(
      parsed.files.map((f) => f.state),
      ['stapled', 'stapled'],
    );
    assert.ok(parsed.files.every((f) => f.stapleWritten));
  });

  it('removes the staple file when no acceptable staple remains, and runs the reload command (debounced)', async (t) => {
    const clock = new FakeClock(Date.now());
    responder.now = () => clock.now();
    await writeFile(join(dir, 'certs', 'site.pem'), fullchain(pki.leaf, pki.intermediate));
    const marker = join(dir, 'reloads.log');
    // On the fake clock, rescans and the reload's debounce run when the test moves time.
    const daemon = await startDaemon(
      t,
      { nginxInclude: '{cert}.stapling.conf', rescanMs: 3_600_000, reload: { command: `echo reload >> ${marker}`, debounceMs: 50 } },
      clock,
    );
    const staple = join(dir, 'certs', 'site.pem.ocsp');
    const reloads = async (): Promise<number> => (await readFile(marker, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
    await waitFor('the staple file', () => existsSync(staple));
    // The reload is scheduled once the writes are done: move time until it has run.
    await waitFor('one reload for the first staple', async () => (await reloads()) === 1 || (await clock.advance(50), false));
    responder.behaviour = 'http-500';
    const status = daemon.state().files[0]!;
    await clock.advanceTo(Date.parse(status.validUntil!));
    await waitFor('the staple file removed', () => !existsSync(staple));
    assert.match(await readFile(join(dir, 'certs', 'site.pem.stapling.conf'), 'utf8'), /ssl_stapling off;/);
    await waitFor('a reload after the removal', async () => (await reloads()) === 2 || (await clock.advance(50), false));
    await daemon.settled();
    assert.equal(await reloads(), 2, 'debounced: one reload per change, not more');
    // Recovery writes it back.
    responder.behaviour = 'good';
    await clock.advance(2 * 3_600_000);
    // On a busy machine a retry may time out too: let (fake) time pass until one succeeds.
    await waitFor('the staple file back', async () => existsSync(staple) || (await clock.advance(60_000), false));
  });

  it('withdraws a staple file before nextUpdate by the reload debounce plus FILE_WITHDRAW_LEAD_MS, so the reload lands before it lapses', async (t) => {
    const clock = new FakeClock(Date.now());
    responder.now = () => clock.now();
    await writeFile(join(dir, 'certs', 'site.pem'), fullchain(pki.leaf, pki.intermediate));
    const marker = join(dir, 'reloads.log');
    const debounceMs = 2_000;
    const daemon = await startDaemon(
      t,
      { nginxInclude: '{cert}.stapling.conf', rescanMs: 3_600_000, reload: { command: `echo reload >> ${marker}`, debounceMs } },
      clock,
    );
    const staple = join(dir, 'certs', 'site.pem.ocsp');
    await waitFor('the staple file', () => existsSync(staple));
    responder.behaviour = 'http-500';
    const validUntil = Date.parse(daemon.state().files[0]!.validUntil!);
    const withdrawAt = validUntil - debounceMs - FILE_WITHDRAW_LEAD_MS;
    await clock.advanceTo(withdrawAt - 1);
    assert.ok(existsSync(staple), 'still written just before the withdrawal');
    await clock.advanceTo(withdrawAt);
    await waitFor('the staple file withdrawn', () => !existsSync(staple));
    assert.match(await readFile(join(dir, 'certs', 'site.pem.stapling.conf'), 'utf8'), /ssl_stapling off;/);
    // The reload command runs after its debounce: still before nextUpdate.
    const reloads = async (): Promise<number> => (await readFile(marker, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
    const before = await reloads();
    await clock.advanceTo(withdrawAt + debounceMs);
    await waitFor('the reload after the withdrawal', async () => (await reloads()) > before);
    assert.ok(clock.now() < validUntil, 'the reload ran before nextUpdate');
    // The responder (the engine) still serves the staple until nextUpdate itself.
    assert.ok(daemon.engine.stapleById(daemon.engine.status()[0]!.id), 'the engine keeps the staple until nextUpdate');
  });

  it('turns the nginx include off and reloads at the withdrawal even when the staple file cannot be removed (its folder broken)', async (t) => {
    const clock = new FakeClock(Date.now());
    responder.now = () => clock.now();
    await writeFile(join(dir, 'certs', 'site.pem'), fullchain(pki.leaf, pki.intermediate));
    await mkdir(join(dir, 'out'));
    const marker = join(dir, 'reloads.log');
    const debounceMs = 2_000;
    const daemon = await startDaemon(
      t,
      {
        stapleFile: `${dir}/out/{name}.ocsp`,
        nginxInclude: '{cert}.stapling.conf',
        rescanMs: 3_600_000,
        reload: { command: `echo reload >> ${marker}`, debounceMs },
      },
      clock,
    );
    const include = join(dir, 'certs', 'site.pem.stapling.conf');
    await waitFor('the include on', async () => /ssl_stapling_file/.test(await readFile(include, 'utf8').catch(() => '')));
    const reloads = async (): Promise<number> => (await readFile(marker, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
    // The first staple's own reload runs first, so that it is not mistaken for the one under test.
    await clock.advance(debounceMs);
    await waitFor("the first staple's reload", async () => (await reloads()) === 1);
    responder.behaviour = 'http-500';
    const validUntil = Date.parse(daemon.state().files[0]!.validUntil!);
    const withdrawAt = validUntil - debounceMs - FILE_WITHDRAW_LEAD_MS;
    // The staple files' folder becomes a file: the staple file can be neither read nor removed.
    await rm(join(dir, 'out'), { recursive: true });
    await writeFile(join(dir, 'out'), 'a file where the folder was\n');
    const before = await reloads();
    await clock.advanceTo(withdrawAt);
    await waitFor('the include off', async () => /ssl_stapling off;/.test(await readFile(include, 'utf8')));
    await waitFor('the failed removal recorded', () => daemon.state().files[0]!.outputs.some((o) => !o.ok));
    await clock.advanceTo(withdrawAt + debounceMs);
    await waitFor('the reload after the include went off', async () => (await reloads()) > before);
    assert.ok(clock.now() < validUntil, 'the reload ran before nextUpdate');
  });

  it("staples certbot's layout: cert.pem (no chain) beside fullchain.pem, chain.pem and privkey.pem", async (t) => {
    const live = join(dir, 'certs');
    // cert.pem sorts first: its leaf is registered before the chain that names its issuer.
    await writeFile(join(live, 'cert.pem'), pki.leaf.pem);
    await writeFile(join(live, 'chain.pem'), pki.intermediate.pem);
    await writeFile(join(live, 'fullchain.pem'), fullchain(pki.leaf, pki.intermediate));
    await writeFile(join(live, 'privkey.pem'), pki.leaf.keyPem);
    const asked = (): number => responder.received.filter((r) => r.serials.includes(pki.leaf.cert.serialHex)).length;
    const before = asked();
    const daemon = await startDaemon(t);
    await waitFor('both files holding the leaf stapled', () => existsSync(join(live, 'fullchain.pem.ocsp')) && existsSync(join(live, 'cert.pem.ocsp')));
    assert.ok(stapleFor(pki.leaf, await readFile(join(live, 'cert.pem.ocsp'))));
    assert.ok(stapleFor(pki.leaf, await readFile(join(live, 'fullchain.pem.ocsp'))));
    assert.equal(asked() - before, 1, 'one request for the one leaf');
    const byFile = new Map(daemon.state().files.map((f) => [f.file.slice(live.length + 1), f.state]));
    assert.equal(byFile.get('cert.pem'), 'stapled');
    assert.equal(byFile.get('privkey.pem'), 'unusable');
  });

  it('gives a renewed certificate (new serial) its own staple at once, never the old one', async (t) => {
    const file = join(dir, 'certs', 'site.pem');
    await writeFile(file, fullchain(pki.leaf, pki.intermediate));
    await startDaemon(t, { refresh: { backoffInitialMs: 200, floorMs: 100 } });
    const staple = join(dir, 'certs', 'site.pem.ocsp');
    await waitFor('the first staple', () => existsSync(staple));
    const renewed = await issue({ name: 'leaf.test', issuer: pki.intermediate, ocspUrls: [responder.url] });
    responder.serve(pki, [renewed]);
    responder.behaviour = 'hang';
    await writeFile(file, fullchain(renewed, pki.intermediate));
    await waitFor('the old staple removed', () => !existsSync(staple));
    responder.behaviour = 'good';
    await waitFor('the renewed staple', async () => existsSync(staple) && stapleFor(renewed, await readFile(staple)));
    assert.ok(!stapleFor(pki.leaf, await readFile(staple)));
  });

  it('keeps serving every other certificate through bad input, with a clear log line for each', async (t) => {
    await writeFile(join(dir, 'certs', 'good.pem'), fullchain(pki.leaf, pki.intermediate));
    await writeFile(join(dir, 'certs', 'key.pem'), pki.leaf.keyPem);
    await writeFile(join(dir, 'certs', 'garbage.pem'), 'this is not a certificate\n');
    // Its CA is in no file at all (a leaf whose issuer merely is elsewhere in the set is stapled).
    const orphanCa = await issue({ name: 'Orphan CA', ca: true });
    const orphan = await issue({ name: 'orphan.test', issuer: orphanCa, ocspUrls: [responder.url] });
    await writeFile(join(dir, 'certs', 'no-issuer.pem'), orphan.pem);
    await writeFile(join(dir, 'certs', 'locked.pem'), fullchain(pki.mustStapleLeaf, pki.intermediate));
    await chmod(join(dir, 'certs', 'locked.pem'), 0o000);
    const daemon = await startDaemon(t, {
      certificates: [join(dir, 'certs', '*.pem'), join(dir, 'nowhere', '*.crt')],
      haproxy: { socket: join(dir, 'missing.sock') },
    });
    await waitFor('the good staple', () => existsSync(join(dir, 'certs', 'good.pem.ocsp')));
    // Each file's push fails on its own, in whichever order their staples land.
    await waitFor("good.pem's push attempt", () =>
      lines.some((l) => /cannot push the staple to HAProxy/.test(l.message) && (l.fields.file as string | undefined)?.endsWith('good.pem') === true),
    );
    const errors = lines
      .filter((l) => l.level === 'error' || l.level === 'warn')
      .map((l) => `${String((l.fields.file ?? l.fields.glob ?? l.fields.socket ?? '') as string)} ${l.message}`);
    const has = (pattern: RegExp): void =>
      assert.ok(
        errors.some((e) => pattern.test(e)),
        `no log line matches ${pattern}:\n${errors.join('\n')}`,
      );
    has(/nowhere\/\*\.crt certificate glob matches no file/);
    has(/key\.pem cannot use this certificate file: .*holds a private key, not a certificate/);
    has(/garbage\.pem cannot use this certificate file: .*neither PEM nor DER/);
    has(/good\.pem cannot push the staple to HAProxy: stats socket .*missing\.sock: does not exist/);
    has(/issuer .* is not in its chain/);
    const state = daemon.state();
    const byName = (n: string): (typeof state.files)[number] => state.files.find((f) => f.file.endsWith(n))!;
    assert.equal(byName('good.pem').state, 'stapled');
    assert.equal(byName('key.pem').state, 'unusable');
    assert.equal(byName('no-issuer.pem').state, 'no-issuer');
    assert.match(byName('no-issuer.pem').problems.join(' '), /issuer/);
    // Root reads any file, so the unreadable one may well be stapled: it must not be an error then.
    if (process.getuid?.() !== 0) assert.equal(byName('locked.pem').state, 'unusable');
    assert.ok(!existsSync(join(dir, 'certs', 'key.pem.ocsp')));
  });

  it('keeps a valid staple file left from before (responder down), and removes one that is not valid', async (t) => {
    await writeFile(join(dir, 'certs', 'site.pem'), fullchain(pki.leaf, pki.intermediate));
    await writeFile(join(dir, 'certs', 'rsa.pem'), fullchain(pki.rsaLeaf, pki.intermediate));
    const kept = await responder.makeResponse(pki.leaf.cert.serialHex);
    await writeFile(join(dir, 'certs', 'site.pem.ocsp'), kept);
    // rsa.pem's old file holds another certificate's staple: it must not survive.
    await writeFile(join(dir, 'certs', 'rsa.pem.ocsp'), kept);
    responder.behaviour = 'hang';
    const daemon = await startDaemon(t);
    await waitFor('the invalid staple file removed', () => !existsSync(join(dir, 'certs', 'rsa.pem.ocsp')));
    assert.deepEqual(await readFile(join(dir, 'certs', 'site.pem.ocsp')), kept);
    const site = daemon.state().files.find((f) => f.file.endsWith('site.pem'))!;
    assert.equal(site.state, 'stapled');
  });

  it('runs a reload that is due before it stops', async (t) => {
    await writeFile(join(dir, 'certs', 'site.pem'), fullchain(pki.leaf, pki.intermediate));
    const marker = join(dir, 'reloads.log');
    const daemon = await startDaemon(t, { reload: { command: `echo reload >> ${marker}`, debounceMs: 600_000 } });
    await waitFor('the staple file', () => existsSync(join(dir, 'certs', 'site.pem.ocsp')));
    await waitFor('a reload due', () => daemon.state().files[0]!.state === 'stapled');
    assert.equal(existsSync(marker), false, 'not yet: the debounce is long');
    await daemon.stop();
    assert.equal((await readFile(marker, 'utf8')).trim(), 'reload');
    // It says what it leaves behind: nothing removes those files at expiry while it is stopped.
    const left = lines.find((l) => l.level === 'warn' && /staple files stay/.test(l.message));
    assert.ok(left, 'a warning about the staple files left in place');
    assert.equal(left.fields.stapleFiles, 1);
    assert.equal(left.fields.firstExpiry, daemon.state().files[0]!.validUntil);
  });

  it('picks up a fix: a file whose chain lacked the issuer, once the issuer is appended', async (t) => {
    const file = join(dir, 'certs', 'site.pem');
    await writeFile(file, pki.leaf.pem);
    const daemon = await startDaemon(t);
    assert.equal(daemon.state().files[0]!.state, 'no-issuer');
    await writeFile(file, fullchain(pki.leaf, pki.intermediate));
    await waitFor('the staple once the chain is complete', () => existsSync(join(dir, 'certs', 'site.pem.ocsp')));
  });

  it('picks up a certificate file added while it runs, and forgets one that is removed', async (t) => {
    await startDaemon(t);
    await writeFile(join(dir, 'certs', 'late.pem'), fullchain(pki.leaf, pki.intermediate));
    await waitFor('the late staple', () => existsSync(join(dir, 'certs', 'late.pem.ocsp')));
    await rm(join(dir, 'certs', 'late.pem'));
    await waitFor('its staple file removed', () => !existsSync(join(dir, 'certs', 'late.pem.ocsp')));
  });

  it('refreshes on SIGUSR1, and shuts down cleanly on SIGTERM', async () => {
    await writeFile(join(dir, 'certs', 'site.pem'), fullchain(pki.leaf, pki.intermediate));
    const child = execFile(process.execPath, [
      '--import',
      'tsx',
      join(ROOT, 'src/cli/main.ts'),
      'daemon',
      '--cert',
      join(dir, 'certs', '*.pem'),
      '--state',
      join(dir, 'state.json'),
      '--store',
      join(dir, 'store'),
      '--log-level',
      'warn',
    ]);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await waitFor('the staple file', () => existsSync(join(dir, 'certs', 'site.pem.ocsp')), 20_000);
    // SIGUSR1: refresh every certificate now. A signal that lands while the first fetch is
    // still in flight shares that fetch (single flight), so it is sent again until one is seen.
    const requests = responder.requestCount;
    try {
      await waitFor('a refresh after SIGUSR1', () => {
        if (responder.requestCount > requests) return true;
        child.kill('SIGUSR1');
        return false;
      });
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
    const state = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as { states: Record<string, number> };
    assert.deepEqual(state.states, { stapled: 1 });
    const detail = (await readFile(join(dir, 'state.files.jsonl'), 'utf8')).trim().split('\n');
    assert.equal((JSON.parse(detail[1]!) as { state: string }).state, 'stapled');
  });

  it('--check-config validates and exits', async () => {
    const config = join(dir, 'stapler.yaml');
    await writeFile(config, `certificates:\n  - ${join(dir, 'certs', '*.pem')}\ntimeoutMs: 2000\n`);
    const run = (file: string): Promise<{ code: number; out: string; err: string }> =>
      new Promise((resolve) =>
        execFile(
          process.execPath,
          ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'daemon', '--config', file, '--check-config'],
          { cwd: ROOT },
          (e, out, err) => resolve({ code: e ? Number(e.code) : 0, out, err }),
        ),
      );
    const ok = await run(config);
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /configuration OK/);
    await writeFile(config, `certificates: [a.pem]\ntimeoutMs: fast\n`);
    const bad = await run(config);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /config key "timeoutMs": "fast" is not valid: expected a number/);
  });
});
