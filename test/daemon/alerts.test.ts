// Alerts: hooks run with the details in their environment and arguments (never through a shell),
// once per transition; a hook that hangs is killed; the webhook gets the same as JSON; bad hook
// settings are refused with the key and the reason.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { alertDetails } from '../../src/daemon/alerts/alert.ts';
import { Alerts } from '../../src/daemon/alerts/alerts.ts';
import { DEFAULT_HOOKS, type HooksConfig } from '../../src/daemon/alerts/hook-config.ts';
import { HookRunner } from '../../src/daemon/alerts/hook-runner.ts';
import { parseConfig } from '../../src/daemon/config.ts';
import type { CertificateStatus } from '../../src/engine/types.ts';
import { InputError } from '../../src/ocsp/errors.ts';
import { captureLogger } from '../support/log-capture.ts';
import { DAY, makeRig, MIN } from '../support/engine-rig.ts';
import { fullchain, makePki, type Issued, type TestPki } from '../support/pki.ts';
import { failure, success } from '../support/scripted-fetcher.ts';
import { buildResponse } from '../support/responses.ts';

let pki: TestPki;
let dir: string;
let hook: string;
before(async () => {
  pki = await makePki({ ocspUrl: 'http://127.0.0.1:9/ocsp' });
  dir = await mkdtemp(join(tmpdir(), 'stapler-alerts-'));
  hook = join(dir, 'hook.sh');
  // Writes its STAPLER_ environment and its arguments to a new file in the folder it is given.
  await writeFile(
    hook,
    '#!/bin/sh\nout="$1"; shift\nf=$(mktemp "$out/$STAPLER_EVENT.XXXXXX")\n{ env | grep "^STAPLER_" | sort; printf "ARG=%s\\n" "$@"; } > "$f"\n',
  );
  await chmod(hook, 0o755);
});

const chain = (leaf: Issued): string => fullchain(leaf, pki.intermediate);
const label = (s: CertificateStatus): string => `/etc/certs/${s.subject.replace('CN=', '')}.pem $(touch ${dir}/pwned)`;

async function runs(out: string): Promise<Record<string, string>[]> {
  const files = (await readdir(out)).sort();
  return Promise.all(
    files.map(async (f) => {
      const text = await readFile(join(out, f), 'utf8');
      const env: Record<string, string> = { FILE: f };
      const args: string[] = [];
      for (const line of text.split('\n').filter(Boolean)) {
        const [k, ...v] = line.split('=');
        if (k === 'ARG') args.push(v.join('='));
        else env[k!] = v.join('=');
      }
      env.ARGS = JSON.stringify(args);
      return env;
    }),
  );
}

async function setup(over: Partial<HooksConfig> = {}) {
  const out = await mkdtemp(join(dir, 'out-'));
  const rig = makeRig(pki);
  const { logger, lines } = captureLogger();
  const argv = [hook, out];
  const config: HooksConfig = {
    ...DEFAULT_HOOKS,
    commands: { revoked: argv, expired: argv, failureStreak: argv, mustStapleAtRisk: argv },
    failureStreak: 2,
    ...over,
  };
  const alerts = new Alerts(config, { logger, label, now: () => rig.clock.now() });
  alerts.watch(rig.stapler);
  return { out, rig, alerts, lines };
}

describe('alert hooks', () => {
  it('run once per failure streak, with the details in the environment and as arguments (no shell)', async () => {
    const { out, rig, alerts } = await setup();
    rig.fetcher.script = () => failure('fetch-timeout', 'no answer within 5 s');
    await rig.stapler.add(chain(pki.leaf));
    await rig.stapler.idle();
    for (let i = 0; i < 3; i++) await rig.stapler.refreshNow(chain(pki.leaf));
    await alerts.settled();
    const [run, ...more] = await runs(out);
    assert.equal(more.length, 0, 'one run for a streak of four failures');
    const cert = `/etc/certs/${pki.leaf.cert.subject.replace('CN=', '')}.pem $(touch ${dir}/pwned)`;
    assert.equal(run!.STAPLER_EVENT, 'failureStreak');
    assert.equal(run!.STAPLER_CERT, cert);
    assert.equal(run!.STAPLER_SUBJECT, pki.leaf.cert.subject);
    assert.equal(run!.STAPLER_SERIAL, pki.leaf.cert.serialHex);
    assert.equal(run!.STAPLER_STATE, 'unstapled');
    assert.equal(run!.STAPLER_FAILURES, '2');
    assert.equal(run!.STAPLER_LAST_ERROR, 'fetch-timeout: no answer within 5 s');
    assert.deepEqual(JSON.parse(run!.ARGS!), ['failureStreak', cert]);
    assert.equal(existsSync(join(dir, 'pwned')), false, 'the label was never read by a shell');
    // A success ends the streak; a new streak alerts again.
    rig.fetcher.script = () => success(rig.respond(pki.leaf));
    await rig.stapler.refreshNow(chain(pki.leaf));
    rig.fetcher.script = () => failure('fetch-network', 'connection refused');
    await rig.stapler.refreshNow(chain(pki.leaf));
    await rig.stapler.refreshNow(chain(pki.leaf));
    await alerts.settled();
    const all = await runs(out);
    assert.equal(all.length, 2);
    const second = all.find((r) => r.STAPLER_LAST_ERROR === 'fetch-network: connection refused')!;
    assert.equal(second.STAPLER_STATE, 'stapled-refresh-failing');
    assert.match(second.STAPLER_NEXT_UPDATE!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    await rig.stapler.close();
  });

  it('run once when a certificate is revoked, once when its staple expires, once when a Must-Staple one is at risk', async () => {
    const { out, rig, alerts } = await setup({ failureStreak: 100 });
    const revoked = (): Buffer =>
      buildResponse({
        cert: pki.leaf,
        issuer: pki.intermediate,
        status: 'revoked',
        revocationReason: 1,
        thisUpdate: new Date(rig.clock.now() - MIN),
        nextUpdate: new Date(rig.clock.now() + DAY),
      });
    rig.fetcher.script = (req) => (req.certificate.serialHex === pki.leaf.cert.serialHex ? success(revoked()) : failure('try-later', 'try later'));
    await rig.stapler.add(chain(pki.leaf));
    await rig.stapler.add(chain(pki.mustStapleLeaf));
    await rig.stapler.idle();
    await rig.stapler.refreshNow(chain(pki.leaf));
    await rig.stapler.refreshNow(chain(pki.mustStapleLeaf));
    await rig.stapler.refreshNow(chain(pki.mustStapleLeaf));
    await alerts.settled();
    let events = (await runs(out)).map((r) => `${r.STAPLER_EVENT} ${r.STAPLER_SERIAL}`).sort();
    assert.deepEqual(events, [`mustStapleAtRisk ${pki.mustStapleLeaf.cert.serialHex}`, `revoked ${pki.leaf.cert.serialHex}`].sort());
    const revokedRun = (await runs(out)).find((r) => r.STAPLER_EVENT === 'revoked')!;
    assert.equal(revokedRun.STAPLER_CERT_STATUS, 'revoked');
    // The revoked staple lapses while the responder fails: one expiry alert.
    rig.fetcher.script = () => failure('try-later', 'try later');
    await rig.clock.advance(2 * DAY);
    await rig.stapler.idle();
    await alerts.settled();
    events = (await runs(out)).map((r) => r.STAPLER_EVENT!);
    assert.equal(events.filter((e) => e === 'expired').length, 1);
    assert.equal(events.filter((e) => e === 'mustStapleAtRisk').length, 1);
    await rig.stapler.close();
  });

  it('kills a hook that hangs, and logs what a failing hook printed (cut)', async () => {
    const { logger, lines } = captureLogger();
    const runner = new HookRunner(logger, { timeoutMs: 300, concurrency: 2 });
    const rig = makeRig(pki);
    const status = await rig.stapler.add(chain(pki.leaf));
    const alert = alertDetails('expired', 'site.pem', status, rig.clock.now());
    // The event and the certificate follow the argv: here they become $1 and $2 of the script.
    const hung = await runner.run(['/bin/sh', '-c', 'sleep 30', 'sh'], alert);
    assert.equal(hung?.timedOut, true);
    assert.equal(hung?.signal, 'SIGKILL');
    assert.ok(lines.some((l) => l.level === 'error' && /killed: still running after 300 ms/.test(l.message)));
    const noisy = await runner.run(['/bin/sh', '-c', 'head -c 10000 /dev/zero | tr "\\0" x; exit 3', 'sh'], alert);
    assert.equal(noisy?.code, 3);
    assert.match(noisy.stdout, /^x{2048}… \(cut at 2048 bytes\)$/);
    const missing = await runner.run([join(dir, 'no-such-hook')], alert);
    assert.equal(missing?.code, null);
    assert.ok(lines.some((l) => /alert hook could not run/.test(l.message)));
    await rig.stapler.close();
  });

  it('runs at most `concurrency` hooks at once', async () => {
    const { logger } = captureLogger();
    const runner = new HookRunner(logger, { timeoutMs: 10_000, concurrency: 2 });
    const rig = makeRig(pki);
    const status = await rig.stapler.add(chain(pki.leaf));
    const alert = alertDetails('expired', 'site.pem', status, rig.clock.now());
    const counter = join(dir, 'concurrency');
    await writeFile(counter, '');
    // Each run appends "+", waits, appends "-": with two slots, "+" never runs three deep.
    const script = `echo + >> ${counter}; sleep 0.2; echo - >> ${counter}`;
    await Promise.all([1, 2, 3, 4].map(() => runner.run(['/bin/sh', '-c', script], alert)));
    let depth = 0;
    let max = 0;
    for (const c of (await readFile(counter, 'utf8')).split('\n').filter(Boolean)) max = Math.max(max, (depth += c === '+' ? 1 : -1));
    assert.equal(max, 2);
    await rig.stapler.close();
  });
});

describe('alert webhook', () => {
  const received: { headers: Record<string, unknown>; body: Record<string, unknown> }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(body) as Record<string, unknown> });
      res.end('thanks');
    });
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('receives each alert as JSON', async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`;
    const { rig, alerts, lines } = await setup({ commands: {}, failureStreak: 1, webhook: url });
    rig.fetcher.script = () => failure('fetch-http-status', 'HTTP 503');
    await rig.stapler.add(chain(pki.leaf));
    await rig.stapler.idle();
    await alerts.settled();
    assert.equal(received.length, 1);
    assert.equal(received[0]!.headers['content-type'], 'application/json');
    assert.equal(received[0]!.body.event, 'failureStreak');
    assert.equal(received[0]!.body.serial, pki.leaf.cert.serialHex);
    assert.equal(received[0]!.body.lastError, 'fetch-http-status: HTTP 503');
    assert.ok(lines.some((l) => l.message === 'alert webhook sent'));
    await rig.stapler.close();
  });
});

describe('hooks configuration', () => {
  const parse = (yaml: string) => parseConfig(`certificates: /a.pem\n${yaml}`, 'stapler.yaml', '/etc/stapler');
  it('takes argv lists or a program path, a streak threshold, a timeout and a webhook', () => {
    const c = parse(
      'hooks:\n  revoked: [/usr/local/bin/page, --urgent]\n  expired: /usr/local/bin/mail-me\n  failureStreakThreshold: 5\n  timeoutMs: 2000\n  webhook: https://hooks.example/x\n',
    );
    assert.deepEqual(c.hooks, {
      commands: { revoked: ['/usr/local/bin/page', '--urgent'], expired: ['/usr/local/bin/mail-me'] },
      failureStreak: 5,
      timeoutMs: 2000,
      concurrency: 4,
      webhook: 'https://hooks.example/x',
    });
    assert.equal(parse('').hooks, null);
  });
  it('refuses bad values, naming the key and the reason', () => {
    for (const [yaml, key, why] of [
      ['hooks:\n  revoked: 5\n', 'hooks.revoked', /program path/],
      ['hooks:\n  revoked: []\n', 'hooks.revoked', /program path/],
      ['hooks:\n  webhook: ftp://x\n', 'hooks.webhook', /http:\/\/ or https:\/\//],
      ['hooks:\n  webhook: not a url\n', 'hooks.webhook', /http:\/\/ or https:\/\//],
      ['hooks:\n  failureStreakThreshold: 0\n', 'hooks.failureStreakThreshold', /from 1 to 1000/],
      ['hooks:\n  timeoutMs: 0\n', 'hooks.timeoutMs', /from 100/],
      ['hooks:\n  onFire: /bin/true\n', 'hooks.onFire', /not a known key/],
      ['logFormat: xml\n', 'logFormat', /pretty, json/],
    ] as const) {
      assert.throws(
        () => parse(yaml),
        (err: unknown) => err instanceof InputError && err.message.includes(`"${key}"`) && why.test(err.message),
        yaml,
      );
    }
  });
});
