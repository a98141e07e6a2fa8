// lighttpd 1.4 (Debian's, with mod_openssl) stapling the file `stapler daemon` writes, as the
// docs set it up: `ssl.stapling-file` per certificate, and the daemon's reload command sending
// lighttpd SIGUSR1 (a graceful restart: Debian's `systemctl reload lighttpd`). Without the
// signal lighttpd looks at the file only every 64 s, and staples an expired response until then.
// The daemon runs as its own process on the real clock; the CA's responses are short-lived.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { verifyResponse } from '../../src/ocsp/verify.ts';
import { ridesOutBadAnswers, startDaemonProcess } from '../support/daemon-process.ts';
import { freePort } from '../support/openssl.ts';
import { fullchain, makePki, type TestPki } from '../support/pki.ts';
import { TestResponder } from '../support/responder.ts';
import { peerSkip } from '../support/peers.ts';
import { startServer, type ServerProcess } from '../support/server-process.ts';
import { handshake } from '../support/tls.ts';
import { waitFor } from '../support/wait.ts';

const noLighttpd = peerSkip('lighttpd', 'openssl');
if (noLighttpd) console.log(`# skipping lighttpd: ${noLighttpd}`);

let pki: TestPki;
let responder: TestResponder;

before(async () => {
  responder = new TestResponder();
  pki = await makePki({ ocspUrl: await responder.listen() });
  responder.serve(pki);
});
after(() => responder.close());

/** The lighttpd configuration the docs give (docs/servers/lighttpd.md), in a private prefix. */
export function lighttpdConf(o: { dir: string; port: number; certFile: string }): string {
  return `server.document-root = "${o.dir}"
server.bind = "127.0.0.1"
server.port = ${o.port}
server.pid-file = "${o.dir}/lighttpd.pid"
server.errorlog = "${o.dir}/error.log"
server.modules += ("mod_openssl")
ssl.engine = "enable"
ssl.pemfile = "${o.certFile}"
ssl.stapling-file = "${o.certFile}.ocsp"
`;
}

interface Site {
  dir: string;
  certFile: string;
  daemon: ChildProcess;
  lighttpd: ServerProcess;
  port: number;
}

async function site(t: { after(fn: () => Promise<void>): void }): Promise<Site> {
  const dir = await mkdtemp(join(tmpdir(), 'stapler-lighttpd-'));
  await mkdir(join(dir, 'certs'));
  const certFile = join(dir, 'certs', 'site.pem');
  await writeFile(certFile, fullchain(pki.leaf, pki.intermediate) + pki.leaf.keyPem);
  // The docs' daemon configuration (with the test's short timings); stopped by the test even if
  // what follows fails.
  const daemon = await startDaemonProcess(
    t,
    dir,
    `certificates: ["${dir}/certs/*.pem"]
stapleFile: "{cert}.ocsp"
reload: { command: "kill -USR1 $(cat ${dir}/lighttpd.pid)", debounceMs: 50 }
`,
  );
  // The documented start order: the daemon first, lighttpd once the staple file exists.
  await waitFor('the staple file', () => existsSync(`${certFile}.ocsp`));
  const port = await freePort();
  await writeFile(join(dir, 'lighttpd.conf'), lighttpdConf({ dir, port, certFile }));
  const lighttpd = await startServer('lighttpd', ['-D', '-f', join(dir, 'lighttpd.conf')], /server started/, join(dir, 'error.log'));
  t.after(() => lighttpd.stop());
  // After-hooks run in registration order: the daemon and lighttpd stop first.
  t.after(() => rm(dir, { recursive: true, force: true }));
  return { dir, certFile, daemon, lighttpd, port };
}

/** One handshake's staple, judged against the certificate lighttpd sent, at the moment it arrived. */
async function staple(port: number): Promise<{ thisUpdate: number; nextUpdate: number | null; ok: boolean; reason: string } | null> {
  const h = await handshake(port, { servername: 'leaf.test', tls: '1.2' });
  if (!h.staple) return null;
  const v = verifyResponse(h.staple, { certificate: pki.leaf.cert, issuer: pki.intermediate.cert, now: Date.now() });
  return { thisUpdate: v.thisUpdate ?? 0, nextUpdate: v.nextUpdate, ok: v.ok, reason: v.ok ? 'ok' : v.reason };
}

describe('lighttpd fed by the daemon', { skip: noLighttpd }, () => {
  it('staples the file, keeps it through an outage and bad answers, and drops it at nextUpdate', async (t) => {
    responder.behaviour = 'good';
    responder.now = () => Date.now();
    // thisUpdate is a minute back: 75 s of validity leaves 15 s, and the daemon refreshes early.
    responder.validityMs = 75_000;
    const s = await site(t);

    const first = await staple(s.port);
    assert.ok(first?.ok, `lighttpd stapled ${JSON.stringify(first)}`);

    // Outage and lies: every answer is refused, and the good staple stays.
    await ridesOutBadAnswers('lighttpd', responder, s.daemon, () => staple(s.port));

    // The outage lasts: the staple reaches nextUpdate, the daemon removes the file and reloads
    // lighttpd, which stops stapling. No handshake on the way may staple an expired response.
    responder.behaviour = 'http-500';
    const expired: string[] = [];
    await waitFor(
      'lighttpd to stop stapling',
      async () => {
        const now = await staple(s.port);
        if (now && !now.ok) expired.push(now.reason);
        return now === null;
      },
      90_000,
    );
    assert.ok(!existsSync(`${s.certFile}.ocsp`), 'the staple file is gone');
    assert.deepEqual(expired, [], 'lighttpd stapled a response the verifier refuses');

    // The CA is back: the daemon writes a new staple and lighttpd staples it after the reload.
    responder.behaviour = 'good';
    s.daemon.kill('SIGUSR1');
    await waitFor('lighttpd to staple again', async () => (await staple(s.port))?.ok === true);
    assert.match(await readFile(join(s.dir, 'error.log'), 'utf8'), /graceful/);
  });
});
