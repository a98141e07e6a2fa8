// h2o 2.2 (Debian's) stapling what `stapler h2o-fetch` prints, set up from the files of
// docs/servers/h2o.md: the daemon as its own process keeps the staple file, h2o runs the
// script every ocsp-update-interval. The CA's responses are short-lived and the interval is
// 2 s, so the whole life of a staple (stapled, outage, lies, nextUpdate, back) fits in a test.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { verifyResponse } from '../../src/ocsp/verify.ts';
import { example } from '../support/doc-examples.ts';
import { ridesOutBadAnswers, startDaemonProcess } from '../support/daemon-process.ts';
import { freePort } from '../support/openssl.ts';
import { fullchain, makePki, type TestPki } from '../support/pki.ts';
import { TestResponder } from '../support/responder.ts';
import { peerSkip } from '../support/peers.ts';
import { startServer } from '../support/server-process.ts';
import { handshake } from '../support/tls.ts';
import { waitFor } from '../support/wait.ts';

const noH2o = peerSkip('h2o', 'openssl');
if (noH2o) console.log(`# skipping h2o: ${noH2o}`);

const ROOT = new URL('../..', import.meta.url).pathname;
const PAGE = 'docs/servers/h2o.md';
const INTERVAL_S = 2;
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

/** One handshake's staple, judged against the certificate h2o sent, at the moment it arrived. */
async function staple(port: number): Promise<{ ok: boolean; reason: string } | null> {
  const h = await handshake(port, { servername: 'leaf.test', tls: '1.2' });
  if (!h.staple) return null;
  const v = verifyResponse(h.staple, { certificate: pki.leaf.cert, issuer: pki.intermediate.cert, now: Date.now() });
  return { ok: v.ok, reason: v.ok ? 'ok' : v.reason };
}

describe('h2o fed by stapler h2o-fetch', { skip: noH2o }, () => {
  it('staples the daemon file, keeps it through an outage and bad answers, and drops it before nextUpdate', async (t) => {
    responder.behaviour = 'good';
    responder.now = () => Date.now();
    // thisUpdate is a minute back: 85 s of validity leaves 25 s; h2o-fetch asks for 2 s + 5 s.
    responder.validityMs = 85_000;
    const dir = await mkdtemp(join(tmpdir(), 'stapler-h2o-'));
    await mkdir(join(dir, 'certs'));
    const certFile = join(dir, 'certs', 'example.crt');
    await writeFile(certFile, fullchain(pki.leaf, pki.intermediate));
    await writeFile(join(dir, 'certs', 'example.key'), pki.leaf.keyPem);

    const daemonConfig = rewrite(example('h2o-daemon', PAGE).code, [['/etc/h2o/tls/', `${dir}/certs/`]]);
    const daemon = await startDaemonProcess(t, dir, daemonConfig);

    // The page's script, running this checkout's CLI, with the test's interval and margin.
    const script = rewrite(example('h2o-fetch-script', PAGE).code, [
      ['exec stapler h2o-fetch', `cd "${ROOT}" && exec "${process.execPath}" --import tsx src/cli/main.ts h2o-fetch`],
      ['--interval 300', `--interval ${INTERVAL_S} --margin 5`],
    ]);
    await writeFile(join(dir, 'stapler-h2o-fetch'), script);
    await chmod(join(dir, 'stapler-h2o-fetch'), 0o755);
    const port = await freePort();
    const conf = rewrite(example('h2o-conf', PAGE).code, [
      ['/etc/h2o/tls/', `${dir}/certs/`],
      ['  port: 443', `  host: 127.0.0.1\n  port: ${port}`],
      ['/usr/local/bin/stapler-h2o-fetch', join(dir, 'stapler-h2o-fetch')],
      ['ocsp-update-interval: 300', `ocsp-update-interval: ${INTERVAL_S}`],
    ]);
    // As root, h2o would switch to nobody, who cannot read the test's private directory.
    const user = process.getuid?.() === 0 ? `user: ${userInfo().username}\n` : '';
    await writeFile(join(dir, 'h2o.conf'), `${conf}${user}hosts:\n  default:\n    paths:\n      /:\n        file.dir: ${dir}\n`);

    // The daemon first; h2o asks at once, and again every interval.
    await waitFor('the staple file', () => existsSync(`${certFile}.ocsp`));
    // `h2o -t` (the docs' check) runs the command once and reports on it.
    const check = spawnSync('h2o', ['-t', '-c', join(dir, 'h2o.conf')], { encoding: 'utf8', timeout: 20_000 });
    assert.match(check.stdout + check.stderr, /\[OCSP Stapling\] stapling works for file:.*example\.crt/);
    const h2o = await startServer('h2o', ['-c', join(dir, 'h2o.conf')], /ready to serve requests/);
    t.after(() => h2o.stop());
    t.after(() => rm(dir, { recursive: true, force: true }));

    await waitFor('h2o to staple', async () => (await staple(port))?.ok === true);
    assert.match(h2o.output(), /successfully updated the response/);

    // Outage and lies: the daemon refuses every answer, keeps its staple, and h2o keeps stapling it.
    await ridesOutBadAnswers('h2o', responder, daemon, () => staple(port));

    // The outage lasts: once the staple would expire before h2o asks again, h2o-fetch exits 75
    // and h2o (ocsp-max-failures: 0) drops it. No handshake on the way gets an expired staple.
    responder.behaviour = 'http-500';
    const refused: string[] = [];
    await waitFor(
      'h2o to stop stapling',
      async () => {
        const now = await staple(port);
        if (now && !now.ok) refused.push(now.reason);
        return now === null;
      },
      60_000,
    );
    assert.deepEqual(refused, [], 'h2o stapled a response the verifier refuses');
    // Either reason, by timing: the staple lapses before h2o's next run, or the daemon has withdrawn its file already.
    assert.match(
      h2o.output(),
      /stapler h2o-fetch: .*example\.crt: (the staple expires at .* before h2o would replace it|no staple file .* \(the daemon has no acceptable staple\))/,
    );
    assert.match(h2o.output(), /temporary disabled due to repeated errors/);

    // The CA is back: the daemon writes a new staple, and h2o takes it at its next run.
    responder.behaviour = 'good';
    daemon.kill('SIGUSR1');
    await waitFor('h2o to staple again', async () => (await staple(port))?.ok === true);
  });
});
