// The descriptor reserve (src/daemon/fd-reserve.ts), for real: `stapler daemon` as its own
// process, its fd limit lowered (prlimit) and every descriptor left taken by connections held
// open to its listener, while a short-lived staple reaches its withdrawal (FILE_WITHDRAW_LEAD_MS
// plus the debounce before nextUpdate). The include must go "off" and the reload command run
// before nextUpdate, with the pressure still on: without the reserve, both fail with EMFILE
// until the connections go, and nginx would staple an expired response meanwhile. And the same
// with a thief that takes every free descriptor whenever the event loop turns, to show the freed
// room goes to the withdrawal, not to the thief (a race the flood alone wins only now and then).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { parseResponse } from '../../src/ocsp/response.ts';
import { caRig } from '../support/ca-rig.ts';
import { childReport } from '../support/child-report.ts';
import { startDaemonProcess } from '../support/daemon-process.ts';
import { freePort } from '../support/openssl.ts';
import { fullchain } from '../support/pki.ts';
import { waitFor } from '../support/wait.ts';

/** The staple's validity: long enough to be fetched and written, short enough for a quick test. */
const VALID_FOR_MS = 14_000;
/** Descriptors left to the daemon above what it holds once started: fewer than the held connections take. */
const HEADROOM = 12;

const ROOT = new URL('../..', import.meta.url).pathname;
const THIEF_CHILD = join(ROOT, 'test/daemon/fixtures/fd-thief-child.ts');

const openFds = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;

it('under fd exhaustion, a lapsing staple is withdrawn on time: the include goes off and the reload command runs before nextUpdate', async (t) => {
  const { pki, responder } = await caRig();
  t.after(() => responder.close());
  // The responder dates its answers a minute back: nextUpdate is VALID_FOR_MS from now.
  responder.validityMs = 60_000 + VALID_FOR_MS;
  const dir = await mkdtemp(join(tmpdir(), 'stapler-fd-reserve-'));
  await mkdir(join(dir, 'certs'));
  const cert = join(dir, 'certs', 'site.pem');
  await writeFile(cert, fullchain(pki.leaf, pki.intermediate));
  const reloads = join(dir, 'reloads');
  const port = await freePort();
  const daemon = await startDaemonProcess(
    t,
    dir,
    `certificates: ["${join(dir, 'certs', '*.pem')}"]
storeDir: ${join(dir, 'store')}
listen: 127.0.0.1:${port}
nginxInclude: "{cert}.stapling.conf"
reload: { command: "date +%s%3N >> ${reloads}", debounceMs: 100 }
`,
  );
  const held: Socket[] = [];
  t.after(() => {
    for (const s of held) s.destroy();
  });
  t.after(() => rm(dir, { recursive: true, force: true }));
  const include = `${cert}.stapling.conf`;
  await waitFor(
    'the staple, its include on, and the reload',
    async () => /ssl_stapling on/.test(await readFile(include, 'utf8').catch(() => '')) && existsSync(reloads),
  );
  // No newer staple from now on: this one lapses.
  responder.behaviour = 'http-500';
  const nextUpdate = parseResponse(await readFile(`${cert}.ocsp`)).basic!.responses[0]!.nextUpdate!;
  assert.ok(nextUpdate - Date.now() > 7_000, 'the withdrawal is still ahead');

  // Every descriptor taken: a lowered limit, then more connections held than it leaves room for.
  const pid = daemon.pid!;
  const limit = openFds(pid) + HEADROOM;
  execFileSync('prlimit', [`--pid=${pid}`, `--nofile=${limit}:${limit}`]);
  // The listener closes a connection that sends nothing within its headers timeout: a flood
  // keeps coming, so each one it closes is replaced.
  const flood = (): void => {
    for (let i = openFds(pid); i < limit + 10; i++) {
      const s = connect({ host: '127.0.0.1', port });
      s.on('error', () => undefined);
      held.push(s);
    }
  };
  flood();
  await waitFor('the daemon out of descriptors', () => openFds(pid) >= limit - 1);
  const reloadsBefore = (await readFile(reloads, 'utf8')).trim().split('\n').length;

  // The pressure stays on until the staple has lapsed.
  await waitFor('nextUpdate to pass', () => (flood(), Date.now() > nextUpdate + 500), VALID_FOR_MS + 5_000);
  assert.match(await readFile(include, 'utf8'), /ssl_stapling off;/);
  const offAt = (await stat(include)).mtimeMs;
  assert.ok(offAt < nextUpdate, `the include went off ${Math.round(offAt - nextUpdate)} ms after nextUpdate`);
  assert.equal(existsSync(`${cert}.ocsp`), false, 'the staple file removed');
  const runs = (await readFile(reloads, 'utf8')).trim().split('\n').map(Number);
  assert.ok(runs.length > reloadsBefore, 'the reload command ran under the pressure');
  assert.ok(runs.at(-1)! < nextUpdate, `the reload command ran ${runs.at(-1)! - nextUpdate} ms after nextUpdate`);
});

it('the room the reserve frees goes to the withdrawal, not to what takes a descriptor when the event loop turns', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'stapler-fd-thief-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const seen = await childReport<{ include: string; staplePresent: boolean; reload: string; ranFile: boolean; stolen: number }>(
    process.execPath,
    ['--import', 'tsx', THIEF_CHILD, dir],
    { cwd: ROOT, env: { ...process.env, UV_THREADPOOL_SIZE: '1' } },
  );
  assert.ok(seen.stolen > 0, 'the thief took descriptors');
  assert.match(seen.include, /ssl_stapling off;/);
  assert.equal(seen.staplePresent, false, 'the staple file removed');
  assert.equal(seen.reload, 'ran');
  assert.equal(seen.ranFile, true, 'the reload command wrote its file');
});
