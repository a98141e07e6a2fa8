// An nginx include says "on" only while its staple file can be read. The staple files' folder
// is replaced by a file (ENOTDIR) under real nginx serving three certificates; then one staple
// reaches its withdrawal. nginx tests its whole configuration at a reload: an include still "on"
// naming a file in the broken folder fails that test, and the old workers keep the staple being
// withdrawn. The daemon turns those includes off first, so the reload lands and the withdrawn
// staple is served no more; when the folder is back, the staples are written and served again.
// The daemon runs on a fake clock (the withdrawal is due when the test moves it), nginx for real.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { buildConfig } from '../../src/daemon/config.ts';
import { Daemon } from '../../src/daemon/daemon.ts';
import { FILE_WITHDRAW_LEAD_MS } from '../../src/daemon/output-writer.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { captureLogger } from '../support/log-capture.ts';
import { nginxConf, noNginx } from '../support/nginx.ts';
import { freePort } from '../support/openssl.ts';
import { fullchain, issue, makePki } from '../support/pki.ts';
import { TestResponder } from '../support/responder.ts';
import { startServer } from '../support/server-process.ts';
import { opensslStatus } from '../support/tls.ts';
import { waitFor } from '../support/wait.ts';

if (noNginx) console.log(`# skipping: ${noNginx}`);

const HOUR = 3_600_000;
const DEBOUNCE_MS = 50;

it(
  'the staple folder replaced by a file: includes naming files there go off before the reload, which lands; the staples return with the folder',
  { skip: noNginx },
  async (t) => {
    const responder = new TestResponder();
    const url = await responder.listen();
    const pki = await makePki({ ocspUrl: url });
    t.after(() => responder.close());
    const dir = await mkdtemp(join(tmpdir(), 'stapler-broken-folder-'));
    const certs = join(dir, 'certs');
    const out = join(dir, 'out');
    await mkdir(certs);
    await mkdir(out);
    await mkdir(join(dir, 'tmp'));
    const clock = new FakeClock(Date.now());
    responder.now = () => clock.now();
    const names = ['a', 'b', 'c'];
    const leaves = await Promise.all(names.map((n, i) => issue({ name: `${n}.test`, issuer: pki.intermediate, ocspUrls: [url], serial: `7${i}01` })));
    responder.serve(pki, leaves);
    const ports = await Promise.all(names.map(() => freePort()));
    const certFile = (n: string): string => join(certs, `${n}.pem`);
    const include = (n: string): string => `${certFile(n)}.stapling.conf`;
    const conf = join(dir, 'nginx.conf');
    await writeFile(
      conf,
      nginxConf(
        dir,
        names
          .map(
            (n, i) => `  server {
    listen 127.0.0.1:${ports[i]} ssl;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_certificate ${certFile(n)};
    ssl_certificate_key ${certFile(n)};
    include ${include(n)};
    location / { return 200 "ok\\n"; }
  }`,
          )
          .join('\n'),
      ),
    );
    // b and c first, valid for a day; then a, valid for an hour (the one withdrawn).
    for (const [i, n] of ['b', 'c'].entries()) await writeFile(certFile(n), fullchain(leaves[i + 1]!, pki.intermediate) + leaves[i + 1]!.keyPem);
    const config = buildConfig(
      {
        certificates: [join(certs, '*.pem')],
        stapleFile: join(out, '{name}.ocsp'),
        nginxInclude: '{cert}.stapling.conf',
        stateFile: join(dir, 'state.json'),
        storeDir: join(dir, 'store'),
        rescanMs: 3_600_000,
        responderRatePerSecond: 0,
        reload: { command: `nginx -p ${dir} -c ${conf} -s reload`, debounceMs: DEBOUNCE_MS },
      },
      dir,
    );
    const { logger, lines } = captureLogger();
    const daemon = new Daemon(config, { logger, clock });
    t.after(() => daemon.stop());
    t.after(() => rm(dir, { recursive: true, force: true }));
    await daemon.start();
    const on = async (n: string): Promise<boolean> => /ssl_stapling on/.test(await readFile(include(n), 'utf8').catch(() => ''));
    await waitFor('b and c stapled', async () => (await on('b')) && (await on('c')));
    responder.validityMs = HOUR;
    await writeFile(certFile('a'), fullchain(leaves[0]!, pki.intermediate) + leaves[0]!.keyPem);
    await daemon.rescan();
    await waitFor('a stapled', () => on('a'));
    await reloaded(daemon, clock);
    const nginx = await startServer('nginx', ['-p', dir, '-c', conf], /start worker process/, join(dir, 'error.log'));
    t.after(() => nginx.stop());
    // The reload before nginx ran failed (no nginx to signal): its retry, now that nginx runs.
    await reloaded(daemon, clock);
    assert.equal(daemon.state().reloads, 1);
    for (const [i, n] of names.entries()) {
      const s = await opensslStatus(ports[i]!, { servername: `${n}.test` });
      assert.ok(s.stapled, `${n} stapled: ${s.output}`);
    }

    // The folder replaced by a file; the CA down; a's staple reaches its withdrawal.
    responder.behaviour = 'http-500';
    await rename(out, `${out}.away`);
    await writeFile(out, 'not a folder\n');
    const a = daemon.state().files.find((f) => f.file === certFile('a'))!;
    const before = daemon.state();
    await clock.advanceTo(Date.parse(a.validUntil!) - FILE_WITHDRAW_LEAD_MS - DEBOUNCE_MS);
    await waitFor('a withdrawn', async () => !(await on('a')));
    // The reload the withdrawal scheduled has run (its debounce on the fake clock), and worked.
    const ran = (): number => daemon.state().reloads + daemon.state().reloadFailures;
    await waitFor('the reload after the withdrawal', async () => (await clock.advance(100), ran() > before.reloads + before.reloadFailures));
    const said = (): string => lines.map((l) => `${l.level} ${l.message}`).join('\n');
    assert.equal(daemon.state().reloadFailures, before.reloadFailures, `the reload command failed: nginx refused the configuration\n${said()}`);
    // b's and c's files are gone with the folder: their includes went off before the reload.
    for (const n of ['b', 'c']) assert.match(await readFile(include(n), 'utf8'), /ssl_stapling off;/, `${n}'s include`);
    // nginx took the reload (its configuration test passed): no worker staples a's withdrawn staple.
    await noneStapled(ports, names);
    assert.doesNotMatch(await readFile(join(dir, 'error.log'), 'utf8'), /\[emerg\]/, 'nginx refused no configuration');

    // The folder comes back: the staples are written again, the includes turn on, nginx reloads.
    await rm(out);
    await rename(`${out}.away`, out);
    responder.behaviour = 'good';
    await waitFor('b and c on again', async () => (await clock.advance(1_000), (await on('b')) && (await on('c'))), 30_000);
    await reloaded(daemon, clock);
    for (const n of ['b', 'c']) assert.ok(existsSync(join(out, `${n}.ocsp`)), `${n}'s staple file`);
    await waitFor(
      'b and c stapled by nginx again',
      async () => (await opensslStatus(ports[1]!, { servername: 'b.test' })).stapled && (await opensslStatus(ports[2]!, { servername: 'c.test' })).stapled,
      30_000,
    );
  },
);

/** The reload that is due has run: its debounce runs on the fake clock, moved on until it has. */
async function reloaded(daemon: Daemon, clock: FakeClock): Promise<void> {
  let done = false;
  void daemon.settled().then(() => (done = true));
  await waitFor('the reload that is due', async () => done || (await clock.advance(100), done));
}

/** No server staples, several answers in a row (an old worker may answer for a while after a reload). */
async function noneStapled(ports: readonly number[], names: readonly string[]): Promise<void> {
  let clean = 0;
  await waitFor(
    'every nginx worker to staple nothing',
    async () => {
      const stapled = await Promise.all(names.map(async (n, i) => (await opensslStatus(ports[i]!, { servername: `${n}.test` })).stapled));
      clean = stapled.some(Boolean) ? 0 : clean + 1;
      return clean >= 3;
    },
    20_000,
  );
}
