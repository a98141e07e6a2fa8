// The nginx include never says "on" before the staple file it names is on disk: nginx would
// refuse to load (or reload into) a configuration naming a missing staple file. Tested through
// the files as the daemon writes them: a staple file that cannot be written (its path is a
// directory) must leave the include "off", and once it can be written the include turns on
// naming a file that is there. Each test starts and stops its own responder and daemon.

import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, rmdir, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { buildConfig } from '../../src/daemon/config.ts';
import { Daemon } from '../../src/daemon/daemon.ts';
import { captureLogger } from '../support/log-capture.ts';
import { fullchain, makePki } from '../support/pki.ts';
import { TestResponder } from '../support/responder.ts';
import { waitFor } from '../support/wait.ts';

it('the nginx include stays off while its staple file cannot be written, and turns on only once the file is there', async (t) => {
  const responder = new TestResponder();
  const pki = await makePki({ ocspUrl: await responder.listen() });
  responder.serve(pki);
  t.after(() => responder.close());
  const dir = await mkdtemp(join(tmpdir(), 'stapler-include-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
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
  t.after(() => daemon.stop());
  await daemon.start();
  // start() waits for the first sync (no staple yet: removing the staple file fails too); the
  // next failure is the sync with the staple in hand.
  const failures = (): number => lines.filter((l) => l.message === 'cannot write the staple file').length;
  const atStart = failures();
  await waitFor('the failed staple write, logged', () => failures() > atStart);
  assert.ok(daemon.engine.stapleById(daemon.engine.status()[0]!.id), 'the engine has the staple');
  const include = await readFile(includeFile, 'utf8').catch(() => '(no include)');
  assert.doesNotMatch(include, /ssl_stapling on/, 'the include names a staple file that is not there');
  assert.ok(statSync(stapleFile).isDirectory());

  // The path is free again. The daemon retries a failed write only on the next change of the
  // certificate or its staple: take the certificate away and give it back.
  await rmdir(stapleFile);
  await unlink(join(certs, 'site.pem'));
  await waitFor('the certificate forgotten', () => lines.some((l) => /removing its staple file/.test(l.message)));
  await writeFile(join(certs, 'site.pem'), fullchain(pki.leaf, pki.intermediate));
  await waitFor('the include, on', async () => /ssl_stapling on/.test(await readFile(includeFile, 'utf8').catch(() => '')));
  const named = /ssl_stapling_file "(.*)";/.exec(await readFile(includeFile, 'utf8'))?.[1];
  assert.equal(named, stapleFile);
  assert.ok(existsSync(stapleFile) && statSync(stapleFile).isFile() && statSync(stapleFile).size > 0);
});
