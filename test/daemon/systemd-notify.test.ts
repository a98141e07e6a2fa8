// systemd's notify protocol against a real unix datagram socket the test binds (python3 plays
// systemd): READY=1 after the first fetch is done and every staple file and include it led to
// is written (what systemd's socket saw on disk when READY=1 came), STATUS= with counts,
// RELOADING=1 then READY=1 around a reload, WATCHDOG=1, STOPPING=1.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildConfig } from '../../src/daemon/config.ts';
import { DaemonService } from '../../src/daemon/service.ts';
import { SYSTEMD_NOTIFY } from '../../src/daemon/systemd-notify.ts';
import { captureLogger } from '../support/log-capture.ts';
import { caRig } from '../support/ca-rig.ts';
import { fullchain, type TestPki } from '../support/pki.ts';
import type { TestResponder } from '../support/responder.ts';
import { waitFor } from '../support/wait.ts';

const FIXTURE = new URL('./fixtures/notify-socket.py', import.meta.url).pathname;
let pki: TestPki;
let responder: TestResponder;
/** Copies of the one certificate: a staple's writes for all of them (and READY=1) come as its first fetch ends. */
const COPIES = 12;

before(async () => ({ pki, responder } = await caRig()));
after(() => responder.close());

describe('systemd notify protocol', { skip: !existsSync(SYSTEMD_NOTIFY) && `${SYSTEMD_NOTIFY} is not installed (Debian: the systemd package)` }, () => {
  it('READY=1 once the first fetch is done and its staple files and includes are written; RELOADING=1/READY=1; WATCHDOG=1; STOPPING=1', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'stapler-notify-'));
    await mkdir(join(dir, 'certs'));
    const sites = Array.from({ length: COPIES }, (_, i) => join(dir, 'certs', `site${i}.pem`));
    for (const site of sites) await writeFile(site, fullchain(pki.leaf, pki.intermediate));
    const socketPath = join(dir, 'notify.sock');
    const watched = sites.flatMap((s) => [`${s}.stapling.conf`, `${s}.ocsp`]);
    const systemd = spawn('python3', [FIXTURE, socketPath, ...watched], { stdio: ['ignore', 'pipe', 'inherit'] });
    t.after(() => void systemd.kill());
    const messages: string[] = [];
    /** What was on disk when each READY=1 came, by file: what systemd's socket read before the notify helper returned. */
    const atReady: Record<string, string | null>[] = [];
    createInterface({ input: systemd.stdout }).on('line', (line) => {
      const { message: m, files } = JSON.parse(line) as { message?: string; files?: Record<string, string | null> };
      if (m === undefined) return;
      messages.push(m);
      if (/^READY=1$/m.test(m)) atReady.push(files ?? {});
    });
    await waitFor('the socket', () => existsSync(socketPath));
    const settings = {
      certificates: [join(dir, 'certs', '*.pem')],
      stateFile: join(dir, 'state.json'),
      storeDir: join(dir, 'store'),
      nginxInclude: '{cert}.stapling.conf',
      timeoutMs: 2_000,
    };
    const config = buildConfig(settings, dir);
    const env = { ...process.env, NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '400000', WATCHDOG_PID: String(process.pid) };
    const service = new DaemonService(config, { logger: captureLogger().logger, env });
    t.after(() => service.stop());
    await service.start();
    await waitFor('READY=1', () => messages.some((m) => /^READY=1$/m.test(m)));
    const seen = atReady[0]!;
    const missing = sites.filter((s) => seen[`${s}.ocsp`] == null || !/ssl_stapling on;/.test(seen[`${s}.stapling.conf`] ?? ''));
    assert.deepEqual(missing, [], 'every staple file, and its include saying "on", was written before READY=1');
    const ready = messages.find((m) => /^READY=1$/m.test(m))!;
    assert.match(ready, new RegExp(`^STATUS=${COPIES} stapled, 0 without a staple, 0 unusable$`, 'm'));
    assert.match(ready, new RegExp(`^MAINPID=${process.pid}$`, 'm'));
    await waitFor('WATCHDOG=1', () => messages.some((m) => /^WATCHDOG=1$/m.test(m)));

    const before = messages.length;
    await service.reconfigure(buildConfig({ ...settings, timeoutMs: 3_000 }, dir));
    await waitFor('READY=1 after the reload', () => messages.slice(before).some((m) => /^READY=1$/m.test(m)));
    const reload = messages.slice(before).filter((m) => !/^(WATCHDOG|BARRIER)=1$/m.test(m));
    assert.match(reload[0]!, /^RELOADING=1$/m);
    assert.match(reload[0]!, /^MONOTONIC_USEC=\d+$/m);
    assert.match(reload[1]!, /^READY=1$/m);

    await service.stop();
    await waitFor('STOPPING=1', () => messages.some((m) => /^STOPPING=1$/m.test(m)));
  });
});
