// The nginx include never says "on" before the staple file it names is on disk: nginx would
// refuse to load (or reload into) a configuration naming a missing staple file. Tested through
// the files as the daemon writes them: a staple file that cannot be written (its path is a
// directory) must leave the include "off", and once it can be written the include turns on
// naming a file that is there. Each test starts and stops its own responder and daemon.

import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { buildConfig } from '../../src/daemon/config.ts';
import { Daemon } from '../../src/daemon/daemon.ts';
import { captureLogger } from '../support/log-capture.ts';
import { caRig } from '../support/ca-rig.ts';
import { fullchain } from '../support/pki.ts';
import { waitFor } from '../support/wait.ts';

it('the nginx include stays off while its staple file cannot be written, and turns on only once the file is there', async (t) => {
  const { pki, responder } = await caRig();
  t.after(() => responder.close());
  const dir = await mkdtemp(join(tmpdir(), 'stapler-include-'));
  const certs = join(dir, 'certs');
  await mkdir(certs);
  const stapleFile = join(certs, 'site.pem.ocsp');
  const includeFile = join(certs, 'site.pem.stapling.conf');
  await writeFile(join(certs, 'site.pem'), fullchain(pki.leaf, pki.intermediate));
  // A directory where the staple file goes: renaming the staple onto it fails.
  await mkdir(stapleFile);

  const { logger, lines } = captureLogger();
  const config = buildConfig(
    {
      certificates: [join(certs, '*.pem')],
      stateFile: join(dir, 'state.json'),
      storeDir: join(dir, 'store'),
      rescanMs: 100,
      nginxInclude: '{cert}.stapling.conf',
    },
    dir,
  );
  const daemon = new Daemon(config, { logger });
  // The daemon stops before its folder goes (after-hooks run in the order they were added).
  t.after(async () => {
    await daemon.stop();
    await rm(dir, { recursive: true, force: true });
  });
  await daemon.start();
  // The staple is in hand and its file cannot be written: the output writer keeps that as state.
  const id = (): string => daemon.engine.status()[0]!.id;
  await waitFor('the engine staple, and its file failing', () => {
    const staple = daemon.engine.status().length > 0 && daemon.engine.stapleById(id()) !== null;
    return staple && daemon.outputHealth(id()).some((o) => o.kind === 'staple-file' && !o.ok);
  });
  assert.ok(
    lines.some((l) => /staple file/.test(l.message)),
    'the failure is logged',
  );
  const include = await readFile(includeFile, 'utf8').catch(() => '(no include)');
  assert.doesNotMatch(include, /ssl_stapling on/, 'the include names a staple file that is not there');
  assert.ok(statSync(stapleFile).isDirectory());

  // The path is free again: the writer's retry (with backoff) writes the staple, then the include.
  await rmdir(stapleFile);
  await waitFor('the include, on', async () => /ssl_stapling on/.test(await readFile(includeFile, 'utf8').catch(() => '')));
  const named = /ssl_stapling_file "(.*)";/.exec(await readFile(includeFile, 'utf8'))?.[1];
  assert.equal(named, stapleFile);
  assert.ok(existsSync(stapleFile) && statSync(stapleFile).isFile() && statSync(stapleFile).size > 0);
});
