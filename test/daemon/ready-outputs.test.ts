// The start order the docs give: the daemon first, then the server, once the daemon logs
// `ready: the first fetches are done` (or says READY=1 to systemd). A server started on that
// line must find what the first fetch brought: the staple file, and the nginx include saying
// "on". Before the fix the line came as soon as the engine was idle, while the files were still
// being written: nginx started then read "ssl_stapling off" and served unstapled handshakes
// until the daemon's reload, a debounce later (found by following the README as a new user).

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { buildConfig } from '../../src/daemon/config.ts';
import { DaemonService } from '../../src/daemon/service.ts';
import type { Logger } from '../../src/engine/logger.ts';
import { fullchain, issue, makePki } from '../support/pki.ts';
import { TestResponder } from '../support/responder.ts';

it('at the "ready" line, every certificate stapled by its first fetch has its staple file and its include "on"', async (t) => {
  const responder = new TestResponder();
  const url = await responder.listen();
  t.after(() => responder.close());
  const pki = await makePki({ ocspUrl: url });
  const dir = await mkdtemp(join(tmpdir(), 'stapler-ready-outputs-'));
  const certs = join(dir, 'certs');
  await mkdir(certs);
  // Several certificates, so that several files are being written when the engine goes idle.
  const names = ['a', 'b', 'c', 'd'];
  const leaves = await Promise.all(names.map((name) => issue({ name: `${name}.test`, issuer: pki.intermediate, ocspUrls: [url] })));
  responder.serve(pki, leaves);
  for (const [i, name] of names.entries()) await writeFile(join(certs, `${name}.pem`), fullchain(leaves[i]!, pki.intermediate));

  /** What was on disk, per certificate, when the ready line was logged (read at that moment). */
  let atReady: Record<string, string> | null = null;
  const onDisk = (): Record<string, string> =>
    Object.fromEntries(
      names.map((n) => {
        const include = join(certs, `${n}.pem.stapling.conf`);
        const said = existsSync(include) ? (/^ssl_stapling on;$/m.test(readFileSync(include, 'utf8')) ? 'include on' : 'include off') : 'no include';
        return [n, `${said}, ${existsSync(join(certs, `${n}.pem.ocsp`)) ? 'staple file' : 'no staple file'}`];
      }),
    );
  const quiet = (): void => undefined;
  const logger: Logger = {
    debug: quiet,
    warn: quiet,
    error: quiet,
    info: (_fields, message) => {
      if (message === 'ready: the first fetches are done') atReady = onDisk();
    },
  };
  const config = buildConfig(
    {
      certificates: [join(certs, '*.pem')],
      stateFile: join(dir, 'state.json'),
      storeDir: join(dir, 'store'),
      nginxInclude: '{cert}.stapling.conf',
      responderRatePerSecond: 0,
    },
    dir,
  );
  const service = new DaemonService(config, { logger, env: {} });
  t.after(async () => {
    await service.stop();
    await rm(dir, { recursive: true, force: true });
  });
  await service.start();
  const expected = Object.fromEntries(names.map((n) => [n, 'include on, staple file']));
  assert.equal(service.daemon.engine.status().filter((s) => s.state === 'stapled').length, names.length, 'every first fetch stapled');
  assert.deepEqual(atReady, expected, 'a server started at the ready line finds each staple file and an include saying "on"');
  assert.deepEqual(onDisk(), expected, 'and so does one started once start() has resolved');
});
