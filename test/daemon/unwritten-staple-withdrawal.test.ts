// A newer staple that cannot be written (here the staple files' folder made immutable with
// chattr: root ignores permission bits) leaves the older one in the file. The server keeps
// stapling that one, so it is withdrawn at its own lapse (the include off and a reload before
// its nextUpdate), not at the lapse of the newer staple the daemon could not write.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, it } from 'node:test';
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

it('withdraws the older staple a file still holds at its own lapse when the newer one cannot be written', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'stapler-unwritten-'));
  const out = join(dir, 'out');
  await mkdir(join(dir, 'certs'));
  await mkdir(out);
  await writeFile(join(dir, 'certs', 'site.pem'), fullchain(pki.leaf, pki.intermediate));
  const clock = new FakeClock(Date.now());
  responder.now = () => clock.now();
  const marker = join(dir, 'reloads.log');
  const debounceMs = 2_000;
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
  const daemon = new Daemon(config, { logger: captureLogger().logger, clock });
  t.after(() => daemon.stop());
  t.after(() => run('chattr', ['-i', out]).catch(() => undefined));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await daemon.start();

  const include = join(dir, 'certs', 'site.pem.stapling.conf');
  const stapleFile = join(out, 'site.ocsp');
  await waitFor('the include on', async () => /ssl_stapling_file/.test(await readFile(include, 'utf8').catch(() => '')));
  const written = await readFile(stapleFile);
  const reloads = async (): Promise<number> => (await readFile(marker, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
  // The reload is scheduled just after the include is written: step the clock until it runs.
  await waitFor("the first staple's reload", async () => (await reloads()) === 1 || (await clock.advance(debounceMs), false));
  const oldUntil = Date.parse(daemon.state().files[0]!.validUntil!);

  // No new entry can be made in the staple folder: the newer staple's write fails, the old file stays.
  await run('chattr', ['+i', out]);
  await waitFor('a newer staple fetched and its write failed', async () => {
    const f = daemon.state().files[0]!;
    if (Date.parse(f.validUntil!) > oldUntil && f.outputs.some((o) => !o.ok)) return true;
    await clock.advance(60 * 60_000);
    return false;
  });
  assert.deepEqual(await readFile(stapleFile), written, 'the file still holds the older staple');
  const withdrawAt = oldUntil - debounceMs - FILE_WITHDRAW_LEAD_MS;
  assert.ok(clock.now() < withdrawAt, 'the older staple is not yet due');
  assert.match(await readFile(include, 'utf8'), /ssl_stapling on;/);

  const before = await reloads();
  await clock.advanceTo(withdrawAt);
  await waitFor('the include off at the older staple’s withdrawal', async () => /ssl_stapling off;/.test(await readFile(include, 'utf8')));
  await waitFor('the reload after the include went off', async () => (await reloads()) > before || (await clock.advance(500), false));
  assert.ok(clock.now() < oldUntil, 'the reload ran before the older staple lapsed');

  // The folder writable again: the retry writes the newer staple and turns the include on.
  await run('chattr', ['-i', out]);
  await waitFor('the newer staple written', async () => {
    const now = await readFile(stapleFile).catch(() => written);
    if (!now.equals(written) && /ssl_stapling on;/.test(await readFile(include, 'utf8'))) return true;
    await clock.advance(60_000);
    return false;
  });
});
