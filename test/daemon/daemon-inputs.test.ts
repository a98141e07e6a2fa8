// The daemon against awkward inputs: outages at first start (nginx needs its include),
// output paths that collide with certificates or with each other, FIFOs, hostile staple
// files, a failing reload command, a flooding HAProxy socket, and the file that names a
// certificate held by two.

import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { after, before, beforeEach, describe, it, type TestContext } from 'node:test';
import { buildConfig } from '../../src/daemon/config.ts';
import { Daemon } from '../../src/daemon/daemon.ts';
import { certificateId } from '../../src/engine/managed.ts';
import { haproxyCommand, MAX_ANSWER_BYTES } from '../../src/daemon/haproxy.ts';
import { captureLogger, type LogLine } from '../support/log-capture.ts';
import type { Logger } from '../../src/engine/logger.ts';
import { verifyResponse } from '../../src/ocsp/verify.ts';
import { fullchain, issue, makePki, type TestPki } from '../support/pki.ts';
import { TestResponder } from '../support/responder.ts';
import { waitFor } from '../support/wait.ts';

let pki: TestPki;
let responder: TestResponder;
let dir: string;

// Each test has its own logger and its own daemons, stopped by that test (in its t.after).
let logger: Logger;
let lines: LogLine[];

before(async () => {
  responder = new TestResponder();
  pki = await makePki({ ocspUrl: await responder.listen() });
  responder.serve(pki);
});
after(() => responder.close());
beforeEach(async () => {
  ({ logger, lines } = captureLogger());
  responder.behaviour = 'good';
  dir = await mkdtemp(join(tmpdir(), 'stapler-inputs-'));
  await mkdir(join(dir, 'certs'));
});

async function startDaemon(t: TestContext, settings: Record<string, unknown> = {}): Promise<Daemon> {
  const config = buildConfig(
    {
      certificates: [join(dir, 'certs', '*.pem')],
      stateFile: join(dir, 'state.json'),
      storeDir: join(dir, 'store'),
      rescanMs: 100,
      timeoutMs: 1_000,
      ...settings,
    },
    dir,
  );
  const daemon = new Daemon(config, { logger });
  t.after(() => daemon.stop());
  await daemon.start();
  return daemon;
}

const logged = (pattern: RegExp): boolean => lines.some((l) => pattern.test(`${typeof l.fields.file === 'string' ? l.fields.file : ''} ${l.message}`));
const validFor = (der: Buffer): boolean => verifyResponse(der, { certificate: pki.leaf.cert, issuer: pki.intermediate.cert, now: Date.now() }).ok;

describe('daemon inputs', () => {
  it('writes the "off" nginx include at once when the responder is down at first start', async (t) => {
    responder.behaviour = 'hang';
    await writeFile(join(dir, 'certs', 'site.pem'), fullchain(pki.leaf, pki.intermediate));
    await startDaemon(t, { nginxInclude: '{cert}.stapling.conf' });
    const include = join(dir, 'certs', 'site.pem.stapling.conf');
    assert.match(await readFile(include, 'utf8'), /ssl_stapling off;/, 'written by start(), before any staple');
    assert.ok(!existsSync(join(dir, 'certs', 'site.pem.ocsp')));
    assert.ok(!logged(/staple file removed/), 'nothing was removed, so nothing is said about it');
    responder.behaviour = 'good';
  });

  it('quotes the staple path in the include, and refuses a name with a newline (that file only)', async (t) => {
    const odd = join(dir, 'certs', 'x; include evil.conf; #"$(id)`id`.pem');
    await writeFile(odd, fullchain(pki.leaf, pki.intermediate));
    await writeFile(join(dir, 'certs', 'new\nline.pem'), fullchain(pki.rsaLeaf, pki.intermediate));
    await startDaemon(t, { nginxInclude: '{cert}.conf' });
    await waitFor(
      'the include for the odd name, on',
      async () => existsSync(`${odd}.ocsp`) && /ssl_stapling on/.test(await readFile(`${odd}.conf`, 'utf8').catch(() => '')),
    );
    const include = await readFile(`${odd}.conf`, 'utf8');
    assert.ok(include.includes(`ssl_stapling_file "${`${odd}.ocsp`.replace(/"/g, '\\"')}";\n`), include);
    assert.ok(logged(/new\nline\.pem cannot use this certificate file: .*control character/));
    assert.ok(!existsSync(join(dir, 'certs', 'new\nline.pem.ocsp')));
    assert.ok(!existsSync(join(dir, 'certs', 'new\nline.pem.conf')));
  });

  it('refuses an output path that two certificates share, or that is a certificate file, with a log line', async (t) => {
    await mkdir(join(dir, 'certs', 'a'));
    await mkdir(join(dir, 'certs', 'b'));
    await writeFile(join(dir, 'certs', 'a', 'site.pem'), fullchain(pki.leaf, pki.intermediate));
    await writeFile(join(dir, 'certs', 'b', 'site.pem'), fullchain(pki.rsaLeaf, pki.intermediate));
    const daemon = await startDaemon(t, { certificates: [join(dir, 'certs', '*', '*.pem')], stapleFile: `${dir}/out/{name}.ocsp` });
    await mkdir(join(dir, 'out'));
    await waitFor('the staple of the first', () => existsSync(join(dir, 'out', 'site.ocsp')));
    assert.ok(logged(/b\/site\.pem cannot use this certificate file: its staple file .*out\/site\.ocsp is already the output of .*a\/site\.pem/));
    assert.ok(validFor(await readFile(join(dir, 'out', 'site.ocsp'))), "the staple is the first certificate's");
    const b = daemon.state().files.find((f) => f.file.endsWith('b/site.pem'))!;
    assert.equal(b.state, 'unusable');
    assert.match(b.lastError ?? '', /already the output of/);
  });

  it('never writes over a certificate file matched by the globs', async (t) => {
    const crt = join(dir, 'certs', 'site.crt');
    const pem = join(dir, 'certs', 'site.pem');
    await writeFile(crt, fullchain(pki.leaf, pki.intermediate));
    await writeFile(pem, fullchain(pki.rsaLeaf, pki.intermediate));
    const before = await readFile(pem);
    await startDaemon(t, { certificates: [join(dir, 'certs', '*')], stapleFile: '{dir}/{name}.pem' });
    await waitFor('the refusal', () => logged(/site\.crt cannot use this certificate file: its staple file .*site\.pem would overwrite a certificate file/));
    assert.ok(logged(/site\.pem cannot use this certificate file: its staple file would be the certificate file itself/));
    assert.deepEqual(await readFile(pem), before);
  });

  it('starts with a FIFO where a staple file or a certificate would be, and serves the rest', async (t) => {
    await writeFile(join(dir, 'certs', 'site.pem'), fullchain(pki.leaf, pki.intermediate));
    await writeFile(join(dir, 'certs', 'rsa.pem'), fullchain(pki.rsaLeaf, pki.intermediate));
    execFileSync('mkfifo', [join(dir, 'certs', 'site.pem.ocsp'), join(dir, 'certs', 'fifo.pem')]);
    await startDaemon(t);
    await waitFor('the staple beside the other certificate', () => existsSync(join(dir, 'certs', 'rsa.pem.ocsp')));
    // The FIFO is replaced by the staple file (rename), never read.
    // (The test must not read the FIFO either: a read would wait for a writer forever.)
    const staple = join(dir, 'certs', 'site.pem.ocsp');
    await waitFor('the staple file in place of the FIFO', async () => statSync(staple).isFile() && validFor(await readFile(staple)));
  });

  it('logs and skips a certificate the core cannot parse (an odd-length BMPString subject), and serves the rest', async (t) => {
    // "leaf.test" is 9 bytes: as a BMPString (2 bytes a character) it cannot be decoded.
    const der = Buffer.from(pki.leaf.cert.der);
    der[der.indexOf(Buffer.from('leaf.test')) - 2] = 0x1e;
    await writeFile(join(dir, 'certs', 'bmp.pem'), `-----BEGIN CERTIFICATE-----\n${der.toString('base64')}\n-----END CERTIFICATE-----\n`);
    await writeFile(join(dir, 'certs', 'rsa.pem'), fullchain(pki.rsaLeaf, pki.intermediate));
    const daemon = await startDaemon(t);
    await waitFor('the good staple', () => existsSync(join(dir, 'certs', 'rsa.pem.ocsp')));
    assert.ok(logged(/bmp\.pem cannot use this certificate file: /), lines.map((l) => l.message).join('\n'));
    assert.equal(daemon.state().files.find((f) => f.file.endsWith('bmp.pem'))!.state, 'unusable');
  });

  it('is quiet about a certificate with no OCSP URL, counts unusable files apart, and says more at debug level', async (t) => {
    const bare = await issue({ name: 'bare.test', issuer: pki.intermediate });
    await writeFile(join(dir, 'certs', 'bare.pem'), fullchain(bare, pki.intermediate));
    // A staple file left from when it had one: removed, quietly.
    await writeFile(join(dir, 'certs', 'bare.pem.ocsp'), await responder.makeResponse(pki.leaf.cert.serialHex));
    await writeFile(join(dir, 'certs', 'junk.pem'), 'not a certificate\n');
    await writeFile(join(dir, 'certs', 'site.pem'), fullchain(pki.leaf, pki.intermediate));
    const daemon = await startDaemon(t);
    await waitFor('the staple', () => existsSync(join(dir, 'certs', 'site.pem.ocsp')));
    await waitFor('the old staple file removed', () => !existsSync(join(dir, 'certs', 'bare.pem.ocsp')));
    const noisy = lines.filter((l) => (l.level === 'warn' || l.level === 'error') && String(l.fields.file).includes('bare.pem'));
    assert.deepEqual(noisy, [], 'no warning for a certificate without an OCSP URL');
    assert.equal(daemon.state().files.find((f) => f.file.endsWith('bare.pem'))!.state, 'no-responder');
    const started = lines.find((l) => l.message === 'stapler daemon started')!;
    assert.deepEqual({ certificates: started.fields.certificates, unusable: started.fields.unusable }, { certificates: 2, unusable: 1 });
    assert.ok(
      lines.findIndex((l) => l.message === 'stapler daemon starting') <
        lines.findIndex((l) => /stapl/.test(l.message) && l.message !== 'stapler daemon starting'),
    );
    for (const m of ['new certificate file', 'certificate registered', 'rescan'])
      assert.ok(
        lines.some((l) => l.level === 'debug' && l.message === m),
        `debug: ${m}`,
      );
  });

  it('applies a new configuration: moved outputs, new engine settings (staples kept from the store, no fetch)', async (t) => {
    await writeFile(join(dir, 'certs', 'site.pem'), fullchain(pki.leaf, pki.intermediate));
    const daemon = await startDaemon(t);
    await waitFor('the staple', () => existsSync(join(dir, 'certs', 'site.pem.ocsp')));
    responder.behaviour = 'hang';
    const requests = responder.requestCount;
    const next = buildConfig(
      {
        certificates: [join(dir, 'certs', '*.pem')],
        stateFile: join(dir, 'state.json'),
        storeDir: join(dir, 'store'),
        rescanMs: 100,
        timeoutMs: 2_000,
        stapleFile: '{dir}/{name}.der',
      },
      dir,
    );
    const changes = await daemon.reconfigure(next);
    assert.deepEqual(changes.sort(), ['engine.timeoutMs', 'stapleFile']);
    await waitFor('the staple at its new path', () => existsSync(join(dir, 'certs', 'site.der')));
    assert.ok(!existsSync(join(dir, 'certs', 'site.pem.ocsp')), 'the old path is removed');
    assert.ok(validFor(await readFile(join(dir, 'certs', 'site.der'))));
    assert.equal(daemon.state().files[0]!.state, 'stapled');
    assert.equal(responder.requestCount, requests, 'no fetch: the new engine read the store');
    responder.behaviour = 'good';
  });

  it('survives hostile bytes in a staple file, at start and dropped in while it runs', async (t) => {
    await writeFile(join(dir, 'certs', 'site.pem'), fullchain(pki.leaf, pki.intermediate));
    const staple = join(dir, 'certs', 'site.pem.ocsp');
    const hostile = Buffer.concat([Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), Buffer.alloc(64, 0xa0)]);
    await writeFile(staple, hostile);
    responder.behaviour = 'hang';
    const daemon = await startDaemon(t);
    await waitFor('the hostile file removed', () => !existsSync(staple));
    responder.behaviour = 'good';
    await daemon.refreshAll();
    await waitFor('a real staple', async () => existsSync(staple) && validFor(await readFile(staple)));
    await writeFile(staple, hostile);
    await daemon.rescan();
    await daemon.refreshAll();
    assert.equal(daemon.state().files[0]!.state, 'stapled');
  });

  it('names a certificate by a file that holds it (the metrics and alerts label), and follows the files as they go', async (t) => {
    const chain = fullchain(pki.leaf, pki.intermediate);
    const [a, b] = [join(dir, 'certs', 'a.pem'), join(dir, 'certs', 'b.pem')];
    await writeFile(a, chain);
    await writeFile(b, chain);
    const daemon = await startDaemon(t);
    const id = certificateId(pki.leaf.cert.der);
    const first = daemon.fileOf(id);
    assert.ok(first === a || first === b, `a file that holds it: ${first}`);
    await rm(first);
    await daemon.rescan();
    assert.equal(daemon.fileOf(id), first === a ? b : a, 'the other file, once the first is gone');
    await rm(first === a ? b : a);
    await daemon.rescan();
    assert.equal(daemon.fileOf(id), null, 'no file holds it');
  });

  it('counts a failed reload apart, and retries it', async (t) => {
    await writeFile(join(dir, 'certs', 'site.pem'), fullchain(pki.leaf, pki.intermediate));
    const marker = join(dir, 'fail-once');
    // Fails the first time (and leaves a marker), succeeds after.
    const daemon = await startDaemon(t, { reload: { command: `test -e ${marker} || { touch ${marker}; exit 3; }`, debounceMs: 10 } });
    await waitFor('a failed reload', () => daemon.state().reloadFailures === 1);
    assert.equal(daemon.state().reloads, 0, 'a failure is not a reload');
    assert.ok(logged(/reload command failed: .*; retrying in 1000 ms/));
    await waitFor('the retry', () => daemon.state().reloads === 1);
    assert.equal(daemon.state().reloadFailures, 1);
  });
});

describe('HAProxy runtime API answers', () => {
  let server: Server;
  after(() => server?.close());
  it('caps a flooding answer and times out a silent one', async () => {
    const sock = join(await mkdtemp(join(tmpdir(), 'stapler-flood-')), 'admin.sock');
    let silent = false;
    server = createServer((c) => {
      c.on('error', () => undefined);
      if (silent) return;
      const chunk = Buffer.alloc(64 * 1024, 0x41);
      const flood = (): void => {
        while (!c.destroyed && c.write(chunk));
        if (!c.destroyed) c.once('drain', flood);
      };
      flood();
    });
    await new Promise<void>((resolve) => server.listen(sock, resolve));
    await assert.rejects(haproxyCommand(sock, 'show info', 5_000), new RegExp(`answer over ${MAX_ANSWER_BYTES / 1024} KiB, refused`));
    silent = true;
    await assert.rejects(haproxyCommand(sock, 'show info', 200), /no complete answer within 200 ms/);
    await rm(sock, { force: true });
  });
});
