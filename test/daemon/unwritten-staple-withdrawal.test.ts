// A newer staple that cannot be written (here the staple files' folder made immutable with
// chattr: root ignores permission bits) leaves the older one in the file. The server keeps
// stapling that one, so it is withdrawn at its own lapse (the include off and a reload before
// its nextUpdate), not at the lapse of the newer staple the daemon could not write. The same after
// a restart: the older staple found in the file is judged, and withdrawn at its own lapse.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, it, type TestContext } from 'node:test';
import { buildConfig } from '../../src/daemon/config.ts';
import { Daemon } from '../../src/daemon/daemon.ts';
import { FILE_WITHDRAW_LEAD_MS } from '../../src/daemon/output-writer.ts';
import { caRig } from '../support/ca-rig.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { captureLogger } from '../support/log-capture.ts';
import { fullchain, type TestPki } from '../support/pki.ts';
import type { TestResponder } from '../support/responder.ts';
import { waitFor } from '../support/wait.ts';

const run = promisify(execFile);
let pki: TestPki;
let responder: TestResponder;

before(async () => ({ pki, responder } = await caRig()));
after(() => responder.close());

const debounceMs = 2_000;

/** A certificate folder, an output folder for its staple, a fake clock and the daemon's config (reloads logged to a file). */
async function site(t: TestContext) {
  const dir = await mkdtemp(join(tmpdir(), 'stapler-unwritten-'));
  const out = join(dir, 'out');
  await mkdir(join(dir, 'certs'));
  await mkdir(out);
  await writeFile(join(dir, 'certs', 'site.pem'), fullchain(pki.leaf, pki.intermediate));
  const clock = new FakeClock(Date.now());
  responder.now = () => clock.now();
  const marker = join(dir, 'reloads.log');
  const config = buildConfig(
    {
      certificates: [join(dir, 'certs', '*.pem')],
      stateFile: join(dir, 'state.json'),
      storeDir: join(dir, 'store'),
      stapleFile: `${out}/{name}.ocsp`,
      nginxInclude: '{cert}.stapling.conf',
      rescanMs: 3_600_000,
      timeoutMs: 1_000,
      responderRatePerSecond: 0,
      reload: { command: `echo reload >> ${marker}`, debounceMs },
    },
    dir,
  );
  const daemons: Daemon[] = [];
  t.after(async () => {
    for (const d of daemons) await d.stop();
    await run('chattr', ['-i', out]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });
  const startDaemon = async (): Promise<Daemon> => {
    const daemon = new Daemon(config, { logger: captureLogger().logger, clock });
    daemons.push(daemon);
    await daemon.start();
    return daemon;
  };
  const include = join(dir, 'certs', 'site.pem.stapling.conf');
  const reloads = async (): Promise<number> => (await readFile(marker, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
  const includeSays = async (what: RegExp): Promise<boolean> => what.test(await readFile(include, 'utf8').catch(() => ''));
  return { out, clock, startDaemon, stapleFile: join(out, 'site.ocsp'), reloads, includeSays };
}

/** The first staple written and its reload run; then the folder made immutable and a newer staple fetched, whose write fails. */
async function newerUnwritten(s: Awaited<ReturnType<typeof site>>, daemon: Daemon): Promise<{ written: Buffer; oldUntil: number }> {
  await waitFor('the include on', () => s.includeSays(/ssl_stapling_file/));
  const written = await readFile(s.stapleFile);
  // The reload is scheduled just after the include is written: step the clock until it runs.
  await waitFor("the first staple's reload", async () => (await s.reloads()) === 1 || (await s.clock.advance(debounceMs), false));
  const oldUntil = Date.parse(daemon.state().files[0]!.validUntil!);

  // No new entry can be made in the staple folder: the newer staple's write fails, the old file stays.
  await run('chattr', ['+i', s.out]);
  await waitFor('a newer staple fetched and its write failed', async () => {
    const f = daemon.state().files[0]!;
    if (Date.parse(f.validUntil!) > oldUntil && f.outputs.some((o) => !o.ok)) return true;
    await s.clock.advance(60 * 60_000);
    return false;
  });
  assert.deepEqual(await readFile(s.stapleFile), written, 'the file still holds the older staple');
  return { written, oldUntil };
}

/** At the older staple's withdrawal time the include goes off, and the reload runs before it lapses. */
async function withdrawnOnTime(s: Awaited<ReturnType<typeof site>>, oldUntil: number): Promise<void> {
  const withdrawAt = oldUntil - debounceMs - FILE_WITHDRAW_LEAD_MS;
  assert.ok(s.clock.now() < withdrawAt, 'the older staple is not yet due');
  assert.ok(await s.includeSays(/ssl_stapling on;/));
  const before = await s.reloads();
  await s.clock.advanceTo(withdrawAt);
  await waitFor('the include off at the older staple’s withdrawal', () => s.includeSays(/ssl_stapling off;/));
  await waitFor('the reload after the include went off', async () => (await s.reloads()) > before || (await s.clock.advance(500), false));
  assert.ok(s.clock.now() < oldUntil, 'the reload ran before the older staple lapsed');
}

it('withdraws the older staple a file still holds at its own lapse when the newer one cannot be written', async (t) => {
  const s = await site(t);
  const daemon = await s.startDaemon();
  const { written, oldUntil } = await newerUnwritten(s, daemon);
  await withdrawnOnTime(s, oldUntil);

  // The folder writable again: the retry writes the newer staple and turns the include on.
  await run('chattr', ['-i', s.out]);
  await waitFor('the newer staple written', async () => {
    const now = await readFile(s.stapleFile).catch(() => written);
    if (!now.equals(written) && (await s.includeSays(/ssl_stapling on;/))) return true;
    await s.clock.advance(60_000);
    return false;
  });
});

it('after a restart, withdraws the older staple found in the file at its lapse when the newer one from the store cannot be written', async (t) => {
  const s = await site(t);
  const first = await s.startDaemon();
  const { oldUntil } = await newerUnwritten(s, first);
  await first.stop();
  // The restarted daemon serves the store's newer staple, finds the older one in the file, and cannot replace it.
  const second = await s.startDaemon();
  await waitFor('the newer staple held and its write failed', () => {
    const f = second.state().files[0];
    return f !== undefined && Date.parse(f.validUntil ?? '0') > oldUntil && f.outputs.some((o) => !o.ok);
  });
  await withdrawnOnTime(s, oldUntil);
});
