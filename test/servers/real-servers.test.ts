// Real servers fed by the daemon: nginx (staple file + include, reloaded) and HAProxy 2.6
// (staple files, then its runtime API). Probed with `openssl s_client -status` and `stapler check`.

import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseTarget, probe } from '../../src/check/probe.ts';
import { buildConfig } from '../../src/daemon/config.ts';
import { Daemon } from '../../src/daemon/daemon.ts';
import { haproxyCommand } from '../../src/daemon/haproxy.ts';
import { silentLogger, type Logger } from '../../src/engine/logger.ts';
import { verifyResponse } from '../../src/ocsp/verify.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { captureLogger } from '../support/log-capture.ts';
import { freePort } from '../support/openssl.ts';
import { nginxConf } from '../support/nginx.ts';
import { peerSkip } from '../support/peers.ts';
import { waitForReloadable } from '../support/haproxy.ts';
import { fullchain, issue, makePki, type Issued, type TestPki } from '../support/pki.ts';
import { TestResponder } from '../support/responder.ts';
import { waitFor } from '../support/wait.ts';
import { opensslStatus } from '../support/tls.ts';

const noNginx = peerSkip('nginx', 'openssl');
const noHaproxy = peerSkip('haproxy', 'openssl');
if (noNginx) console.log(`# skipping nginx: ${noNginx}`);
if (noHaproxy) console.log(`# skipping HAProxy: ${noHaproxy}`);

const ROOT_DIR = new URL('../..', import.meta.url).pathname;
let pki: TestPki;
let responder: TestResponder;
const cleanups: (() => Promise<unknown> | void)[] = [];

before(async () => {
  responder = new TestResponder();
  pki = await makePki({ ocspUrl: await responder.listen() });
  responder.serve(pki);
});
after(async () => {
  for (const c of cleanups.reverse()) await c();
  await responder.close();
});

/** Start a server process; resolve once `ready` appears in its output. */
async function startProcess(cmd: string, args: string[], ready: RegExp, logFile?: string): Promise<ChildProcess> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  );
  await waitFor(`${cmd} to start (${ready})`, async () => {
    if (child.exitCode !== null) assert.fail(`${cmd} exited: ${output}`);
    const log = logFile && existsSync(logFile) ? await readFile(logFile, 'utf8') : '';
    return ready.test(output) || ready.test(log);
  });
  return child;
}

async function setUp(name: string, leaf: Issued): Promise<{ dir: string; certFile: string; clock: FakeClock }> {
  const dir = await mkdtemp(join(tmpdir(), `stapler-${name}-`));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'certs'));
  const certFile = join(dir, 'certs', 'site.pem');
  await writeFile(certFile, fullchain(leaf, pki.intermediate) + leaf.keyPem);
  await writeFile(join(dir, 'root.pem'), pki.root.pem);
  const clock = new FakeClock(Date.now());
  responder.now = () => clock.now();
  return { dir, certFile, clock };
}

async function startDaemon(dir: string, clock: FakeClock, settings: Record<string, unknown>, logger: Logger = silentLogger): Promise<Daemon> {
  const config = buildConfig(
    // On the fake clock, a rescan runs when the test moves time (or calls rescan()), and so would
    // the per-responder rate limit's spacing: it is off here (test/engine/queue.test.ts covers it).
    {
      certificates: [join(dir, 'certs', '*.pem')],
      stateFile: join(dir, 'state.json'),
      storeDir: join(dir, 'store'),
      rescanMs: 3_600_000,
      responderRatePerSecond: 0,
      ...settings,
    },
    dir,
  );
  const daemon = new Daemon(config, { logger, clock });
  cleanups.push(() => daemon.stop());
  await daemon.start();
  return daemon;
}

/** The reload that is due has run: its debounce runs on the fake clock, moved on until it has. */
async function reloaded(daemon: Daemon, clock: FakeClock): Promise<void> {
  let done = false;
  void daemon.settled().then(() => (done = true));
  await waitFor('the reload that is due', async () => done || (await clock.advance(100), done));
}

/** The Pid of the HAProxy worker that answers on the stats socket. */
async function workerPid(socket: string): Promise<string> {
  const info = await haproxyCommand(socket, 'show info', 2_000);
  const pid = /^Pid: (\d+)$/m.exec(info)?.[1];
  if (!pid) throw new Error(`no Pid in HAProxy's "show info": ${info.slice(0, 200)}`);
  return pid;
}

async function check(port: number, dir: string): Promise<{ ok: boolean; serial: string; summary: string }> {
  const r = await probe(parseTarget(`127.0.0.1:${port}`), {
    servername: 'leaf.test',
    ca: await readFile(join(dir, 'root.pem')),
    timeoutMs: 5_000,
    now: Date.now,
  });
  return { ok: r.ok, serial: r.certificate.serial, summary: r.summary };
}

describe('nginx fed by the daemon', { skip: noNginx }, () => {
  it('staples the file the daemon writes, and stops stapling at expiry after a reload', async () => {
    responder.behaviour = 'good';
    const { dir, certFile, clock } = await setUp('nginx', pki.leaf);
    const port = await freePort();
    const conf = join(dir, 'nginx.conf');
    const include = `${certFile}.stapling.conf`;
    await mkdir(join(dir, 'tmp'));
    await writeFile(
      conf,
      nginxConf(
        dir,
        `  server {
    listen 127.0.0.1:${port} ssl;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_certificate ${certFile};
    ssl_certificate_key ${certFile};
    include ${include};
    location / { return 200 "ok\\n"; }
  }`,
      ),
    );
    const { logger, lines } = captureLogger();
    const daemon = await startDaemon(
      dir,
      clock,
      {
        nginxInclude: '{cert}.stapling.conf',
        reload: { command: `nginx -p ${dir} -c ${conf} -s reload`, debounceMs: 50 },
      },
      logger,
    );
    // The include exists at once ("off"); wait for it to name the staple.
    await waitFor(
      'the staple and the include, on',
      async () => existsSync(`${certFile}.ocsp`) && /ssl_stapling on/.test(await readFile(include, 'utf8').catch(() => '')),
    );
    await reloaded(daemon, clock);
    await startProcess('nginx', ['-p', dir, '-c', conf], /start worker process/, join(dir, 'error.log'));

    const stapled = await opensslStatus(port);
    assert.equal(stapled.responseStatus, 'successful', stapled.output);
    assert.equal(stapled.certStatus, 'good');
    assert.ok((await check(port, dir)).ok);

    // The responder fails, and the staple reaches its nextUpdate.
    responder.behaviour = 'http-500';
    await clock.advanceTo(Date.parse(daemon.state().files[0]!.validUntil!));
    await waitFor('the staple file removed', () => !existsSync(`${certFile}.ocsp`));
    assert.match(await readFile(include, 'utf8'), /ssl_stapling off;/);
    await reloaded(daemon, clock);
    // After a reload, an old worker may still answer for a while: wait until several answers
    // in a row are from the new configuration (bounded by waitFor's limit). Time passes meanwhile,
    // as it would for an operator: a reload that failed is retried on the daemon's clock.
    let clean = 0;
    let last = '';
    await waitFor(
      'every nginx worker to stop stapling',
      async () => {
        await clock.advance(100);
        const r = await check(port, dir);
        const stapled = (await opensslStatus(port)).stapled;
        last = `stapler check: ${r.summary}; openssl saw a staple: ${stapled}`;
        clean = !r.ok && /no staple/.test(r.summary) && !stapled ? clean + 1 : 0;
        return clean >= 5;
      },
      30_000,
      async () =>
        [
          last,
          `daemon log:\n${lines.map((l) => `  ${l.level} ${l.message} ${JSON.stringify(l.fields)}`).join('\n')}`,
          `nginx error.log:\n${await readFile(join(dir, 'error.log'), 'utf8').catch((e: Error) => e.message)}`,
        ].join('\n'),
    );
    responder.behaviour = 'good';
  });

  it('takes certificate names that nginx would otherwise misread, quoted, and refuses one with a newline', async () => {
    responder.behaviour = 'good';
    const { dir, clock } = await setUp('nginx-names', pki.leaf);
    const names = ['x; include evil.conf; #.pem', 'a b.pem', '$(touch pwned).pem', '`id`.pem', 'q"uote\\.pem'];
    for (const n of names) await writeFile(join(dir, 'certs', n), fullchain(pki.leaf, pki.intermediate) + pki.leaf.keyPem);
    await writeFile(join(dir, 'certs', 'new\nline.pem'), fullchain(pki.leaf, pki.intermediate) + pki.leaf.keyPem);
    // If the include let a name through unquoted, nginx would read this and refuse to start.
    await writeFile(join(dir, 'evil.conf'), 'this_directive_means_the_name_was_not_quoted;\n');
    const lines: string[] = [];
    const logger: Logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: (_f, m) => void lines.push(m),
      error: (f, m) => void lines.push(`${String(f.file)} ${m}`),
    };
    await startDaemon(dir, clock, { nginxInclude: '{cert}.stapling.conf' }, logger);
    const certs = names.map((n) => join(dir, 'certs', n));
    await waitFor('every include, on', async () => {
      for (const c of certs) if (!/ssl_stapling on/.test(await readFile(`${c}.stapling.conf`, 'utf8').catch(() => ''))) return false;
      return true;
    });
    assert.ok(
      lines.some((l) => /new\nline\.pem cannot use this certificate file: .*control character/.test(l)),
      lines.join('\n'),
    );
    const ports = await Promise.all(certs.map(() => freePort()));
    // ssl_certificate takes variables ($...), so the servers load the same certificate from a
    // plain name: what is tested is the include the daemon wrote for each odd name.
    await writeFile(join(dir, 'served.pem'), fullchain(pki.leaf, pki.intermediate) + pki.leaf.keyPem);
    const q = (p: string): string => `"${p.replace(/[\\"]/g, '\\$&')}"`;
    const conf = join(dir, 'nginx.conf');
    await mkdir(join(dir, 'tmp'));
    await writeFile(
      conf,
      nginxConf(
        dir,
        certs
          .map(
            (c, i) => `  server {
    listen 127.0.0.1:${ports[i]} ssl;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_certificate ${join(dir, 'served.pem')};
    ssl_certificate_key ${join(dir, 'served.pem')};
    include ${q(`${c}.stapling.conf`)};
    location / { return 200 "ok\\n"; }
  }`,
          )
          .join('\n'),
      ),
    );
    const test = spawnSync('nginx', ['-t', '-p', dir, '-c', conf], { encoding: 'utf8' });
    assert.equal(test.status, 0, `${test.stderr}\n${(await readdir(join(dir, 'certs'))).join('\n')}`);
    await startProcess('nginx', ['-p', dir, '-c', conf], /start worker process/, join(dir, 'error.log'));
    for (const port of ports) {
      const r = await opensslStatus(port);
      assert.equal(r.certStatus, 'good', r.output);
    }
    assert.ok(!existsSync(join(dir, 'pwned')) && !existsSync(join(ROOT_DIR, 'pwned')));
  });
});

describe('HAProxy 2.6 fed through its runtime API', { skip: noHaproxy }, () => {
  it('staples, takes updates with no reload, and gives a renewed certificate the right staple', async () => {
    responder.behaviour = 'good';
    const { dir, certFile, clock } = await setUp('haproxy', pki.leaf);
    const port = await freePort();
    const socket = join(dir, 'admin.sock');
    const cfg = join(dir, 'haproxy.cfg');
    await writeFile(
      cfg,
      `global
  stats socket ${socket} level admin
  pidfile ${dir}/haproxy.pid
defaults
  mode http
  timeout connect 5s
  timeout client 5s
  timeout server 5s
frontend fe
  bind 127.0.0.1:${port} ssl crt ${certFile}
  http-request return status 200 content-type text/plain string ok
`,
    );
    const lines: string[] = [];
    const logger: Logger = {
      debug: () => undefined,
      info: (_f, m) => void lines.push(m),
      warn: (_f, m) => void lines.push(m),
      error: (_f, m) => void lines.push(m),
    };
    // HAProxy 2.6 staples only certificates whose .ocsp file exists when it loads them: the
    // daemon writes it first. The reload command (USR2 to the master) covers renewals.
    const daemon = await startDaemon(
      dir,
      clock,
      { haproxy: { socket }, reload: { command: `kill -USR2 $(cat ${dir}/haproxy.pid)`, debounceMs: 1_000 } },
      logger,
    );
    await waitFor('the staple file', () => existsSync(`${certFile}.ocsp`));
    const haproxy = await startProcess('haproxy', ['-W', '-db', '-f', cfg], /Loading success|haproxy.*started/i);
    await waitFor('the stats socket', () => existsSync(socket));
    await waitForReloadable(haproxy.pid!);

    const first = await opensslStatus(port);
    assert.equal(first.responseStatus, 'successful', first.output);
    assert.ok((await check(port, dir)).ok);

    // A refresh: the new staple goes through the runtime API, with no reload. (In near real
    // time: HAProxy checks the response's window against its own clock.)
    // The first staple's reload is due on the fake clock. USR2 returns before HAProxy's new
    // worker is up: a push landing on the old worker would be lost with it, so the test waits
    // until the stats socket answers from a new worker.
    const workerBefore = await workerPid(socket);
    await reloaded(daemon, clock);
    await waitFor('the new HAProxy worker', async () => {
      const pid = await workerPid(socket).catch(() => null);
      return pid !== null && pid !== workerBefore;
    });
    const reloadsBefore = daemon.state().reloads;
    const before = await readFile(`${certFile}.ocsp`);
    await clock.advance(2_000);
    await daemon.refreshAll();
    await waitFor('a new staple file', async () => !(await readFile(`${certFile}.ocsp`)).equals(before));
    await waitFor('the push', () => lines.includes('staple pushed to HAProxy'));
    const updated = await readFile(`${certFile}.ocsp`);
    // The runtime API applies the push for new handshakes: wait until one carries it.
    const { handshake } = await import('../support/tls.ts');
    await waitFor('HAProxy serves the pushed staple', async () => (await handshake(port)).staple?.equals(updated) === true);
    assert.equal(daemon.state().reloads, reloadsBefore, 'no reload for an update');

    // A renewed certificate: HAProxy must load it (the push is refused until then), so the
    // daemon runs the reload command, and the new certificate gets its own staple.
    const renewed = await issue({ name: 'leaf.test', issuer: pki.intermediate, ocspUrls: [responder.url] });
    responder.serve(pki, [renewed]);
    await writeFile(certFile, fullchain(renewed, pki.intermediate) + renewed.keyPem);
    await daemon.rescan();
    await waitFor('the renewed staple file', async () => {
      if (!existsSync(`${certFile}.ocsp`)) return false;
      return verifyResponse(await readFile(`${certFile}.ocsp`), { certificate: renewed.cert, issuer: pki.intermediate.cert, now: clock.now() }).ok;
    });
    await reloaded(daemon, clock);
    await waitFor('HAProxy to serve the renewed certificate, stapled', async () => {
      const r = await check(port, dir).catch(() => null);
      return r !== null && r.serial === renewed.cert.serialHex && r.ok;
    });
  });
});
