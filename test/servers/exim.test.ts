// Exim 4.96 (Debian's exim4-daemon-light, built with GnuTLS) stapling the file `stapler daemon`
// writes, with the `tls_ocsp_file` expansion of docs/servers/exim.md: Exim reads the file at
// each STARTTLS, so the daemon needs no reload. Exim runs as a daemon on 127.0.0.1 from a
// private configuration (-C: spool, log and pid in the test's directory); every STARTTLS is
// made by Node (its staple judged by the verifier) and once by `openssl s_client -starttls smtp`.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { verifyResponse } from '../../src/ocsp/verify.ts';
import { example } from '../support/doc-examples.ts';
import { ridesOutBadAnswers, startDaemonProcess } from '../support/daemon-process.ts';
import { freePort } from '../support/openssl.ts';
import { fullchain, makePki, type TestPki } from '../support/pki.ts';
import { TestResponder } from '../support/responder.ts';
import { peerSkip } from '../support/peers.ts';
import { startServer, type ServerProcess } from '../support/server-process.ts';
import { waitFor } from '../support/wait.ts';

const noExim = peerSkip('exim', 'openssl');
if (noExim) console.log(`# skipping exim: ${noExim}`);

const PAGE = 'docs/servers/exim.md';
let pki: TestPki;
let responder: TestResponder;

before(async () => {
  responder = new TestResponder();
  pki = await makePki({ ocspUrl: await responder.listen() });
  responder.serve(pki);
});
after(() => responder.close());

/** `text` with each [from, to] replaced, every one of which must be there (the docs changed otherwise). */
function rewrite(text: string, pairs: readonly (readonly [string, string])[]): string {
  for (const [from, to] of pairs) {
    assert.ok(text.includes(from), `${PAGE} no longer has "${from}"`);
    text = text.replaceAll(from, to);
  }
  return text;
}

/** A directory with the certificate and key, and Exim started on it with `tls` as its TLS options. */
async function eximSite(
  t: { after(fn: () => Promise<unknown>): void },
  tls: (dir: string) => string,
): Promise<{ dir: string; port: number; exim: ServerProcess }> {
  const dir = await mkdtemp(join(tmpdir(), 'stapler-exim-'));
  await Promise.all(['certs', 'spool', 'log'].map((d) => mkdir(join(dir, d))));
  await writeFile(join(dir, 'certs', 'mail.pem'), fullchain(pki.leaf, pki.intermediate));
  await writeFile(join(dir, 'certs', 'mail.key'), pki.leaf.keyPem);
  const port = await freePort();
  // Exim runs as whoever starts it (-C gives up any other identity): its user is that one.
  const conf = `exim_user = ${process.getuid?.() ?? 0}
exim_group = ${process.getgid?.() ?? 0}
keep_environment =
spool_directory = ${dir}/spool
log_file_path = ${dir}/log/%slog
pid_file_path = ${dir}/exim.pid
primary_hostname = mail.test
local_interfaces = 127.0.0.1
daemon_smtp_ports = ${port}
${tls(dir)}`;
  await writeFile(join(dir, 'exim.conf'), conf);
  const exim = await startServer('exim4', ['-C', join(dir, 'exim.conf'), '-bdf'], /daemon started/, join(dir, 'log', 'mainlog'));
  // The caller removes the directory, after stopping whatever else uses it.
  t.after(() => exim.stop());
  return { dir, port, exim };
}

/** The page's Exim TLS options, for the files in `dir`. */
const documentedTls = (dir: string): string => rewrite(example('exim-conf', PAGE).code, [['/etc/exim4/tls/', `${dir}/certs/`]]);

/** One SMTP STARTTLS with status_request: the staple (null: none), or a rejection when STARTTLS fails. */
async function starttls(port: number): Promise<Buffer | null> {
  const plain: Socket = netConnect(port, '127.0.0.1');
  plain.setTimeout(10_000, () => plain.destroy(new Error('SMTP timed out')));
  let seen = '';
  const reply = (code: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        // A reply is complete at a line "NNN text" (a space, not "NNN-").
        const done = new RegExp(`(^|\\r\\n)(\\d{3}) [^\\r\\n]*\\r\\n$`).exec(seen);
        if (!done) return;
        plain.off('data', onData);
        seen = '';
        if (done[2] === code) resolve();
        else reject(new Error(`SMTP: expected ${code}, got: ${done[0].trim()}`));
      };
      const onData = (d: Buffer): void => {
        seen += d.toString('latin1');
        check();
      };
      plain.on('data', onData);
      plain.once('error', reject);
    });
  try {
    await reply('220');
    plain.write('EHLO client.test\r\n');
    await reply('250');
    plain.write('STARTTLS\r\n');
    await reply('220');
  } catch (err) {
    plain.destroy();
    throw err;
  }
  return new Promise((resolve, reject) => {
    let staple: Buffer | null = null;
    const options: ConnectionOptions & { requestOCSP: boolean } = {
      socket: plain,
      servername: 'leaf.test',
      requestOCSP: true,
      rejectUnauthorized: false, // the test PKI's leaves carry no SAN; trust is not what is tested here
    };
    const secure = tlsConnect(options);
    secure.on('OCSPResponse', (r: Buffer | null) => (staple = r && r.length > 0 ? r : null));
    secure.once('secureConnect', () => {
      secure.end('QUIT\r\n');
      resolve(staple);
    });
    secure.once('error', (err: Error) => {
      plain.destroy();
      reject(err);
    });
  });
}

/** One STARTTLS's staple, judged against the certificate at the moment it arrived. */
async function staple(port: number): Promise<{ ok: boolean; reason: string } | null> {
  const der = await starttls(port);
  if (!der) return null;
  const v = verifyResponse(der, { certificate: pki.leaf.cert, issuer: pki.intermediate.cert, now: Date.now() });
  return { ok: v.ok, reason: v.ok ? 'ok' : v.reason };
}

function opensslStarttls(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const args = ['s_client', '-starttls', 'smtp', '-connect', `127.0.0.1:${port}`, '-servername', 'leaf.test', '-status'];
    const child = execFile('openssl', args, { timeout: 15_000, encoding: 'utf8' }, (err, stdout) => {
      if (err && !stdout) return reject(new Error(`openssl s_client failed: ${err.message}`));
      resolve(stdout);
    });
    child.stdin?.end('QUIT\n');
  });
}

describe('Exim fed by the daemon', { skip: noExim }, () => {
  it('staples the file at each STARTTLS, keeps it through an outage and bad answers, and drops it at nextUpdate without failing STARTTLS', async (t) => {
    responder.behaviour = 'good';
    responder.now = () => Date.now();
    // thisUpdate is a minute back: 75 s of validity leaves 15 s, and the daemon refreshes early.
    responder.validityMs = 75_000;
    const dir = await mkdtemp(join(tmpdir(), 'stapler-exim-daemon-'));
    // Exim's directory is made first; the daemon watches its certs/ folder.
    const site = await eximSite(t, documentedTls);
    const certFile = join(site.dir, 'certs', 'mail.pem');
    const daemonConfig = rewrite(example('exim-daemon', PAGE).code, [['/etc/exim4/tls/', `${site.dir}/certs/`]]);
    // Exim is up without a staple file: STARTTLS works, with no staple.
    assert.equal(await staple(site.port), null, 'no staple before the daemon wrote one');

    const daemon = await startDaemonProcess(t, dir, daemonConfig);
    // After-hooks run in registration order: Exim and the daemon stop first.
    t.after(() => rm(dir, { recursive: true, force: true }));
    t.after(() => rm(site.dir, { recursive: true, force: true }));

    // The file is read at the next STARTTLS: no reload.
    await waitFor('the staple file', () => existsSync(`${certFile}.ocsp`));
    const first = await staple(site.port);
    assert.ok(first?.ok, `Exim stapled ${JSON.stringify(first)}`);
    const openssl = await opensslStarttls(site.port);
    assert.match(openssl, /OCSP Response Status: successful/);
    assert.match(openssl, /Cert Status: good/);

    // Outage and lies: every answer is refused, and the good staple stays.
    await ridesOutBadAnswers('Exim', responder, daemon, () => staple(site.port));

    // The outage lasts: the daemon removes the file before nextUpdate, and the next STARTTLS has
    // no staple. Every STARTTLS on the way succeeds (starttls() throws when it fails), and none
    // carries an expired staple.
    responder.behaviour = 'http-500';
    const refused: string[] = [];
    await waitFor(
      'Exim to stop stapling',
      async () => {
        const now = await staple(site.port);
        if (now && !now.ok) refused.push(now.reason);
        return now === null;
      },
      60_000,
    );
    assert.deepEqual(refused, [], 'Exim stapled a response the verifier refuses');
    assert.ok(!existsSync(`${certFile}.ocsp`), 'the staple file is gone');

    // The CA is back: the daemon writes a new staple, and the next STARTTLS carries it.
    responder.behaviour = 'good';
    daemon.kill('SIGUSR1');
    await waitFor('Exim to staple again', async () => (await staple(site.port))?.ok === true);
    assert.doesNotMatch(await readFile(join(site.dir, 'log', 'mainlog'), 'utf8'), /TLS error/);
  });

  it('fails STARTTLS with a plain tls_ocsp_file path whose file is missing (why the docs use the expansion)', async (t) => {
    const plainPath = (dir: string): string => documentedTls(dir).replace(/^tls_ocsp_file = .*$/m, `tls_ocsp_file = ${dir}/certs/mail.pem.ocsp`);
    const site = await eximSite(t, plainPath);
    t.after(() => rm(site.dir, { recursive: true, force: true }));
    await assert.rejects(starttls(site.port));
    await waitFor('Exim to log the TLS error', async () =>
      /TLS error on connection .*gnutls_certificate_set_ocsp_status_request_file2/.test(await readFile(join(site.dir, 'log', 'mainlog'), 'utf8')),
    );
  });
});
