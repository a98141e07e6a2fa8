// Alerts under attack (issue 16 items 1 and 8): values from a hostile certificate (a NUL byte,
// terminal escapes, 100 KiB of text), a hook configured with a NUL byte, and a webhook that
// hangs, trickles, redirects, answers a huge body, or is flooded with alerts. Nothing may throw
// out of the runner or the webhook, every wait and size is bounded, and the log stays readable.

import assert from 'node:assert/strict';
import { chmod, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it, type TestContext } from 'node:test';
import { ALERT_FIELD_MAX_CHARS, alertDetails, type AlertDetails } from '../../src/daemon/alerts/alert.ts';
import { Alerts } from '../../src/daemon/alerts/alerts.ts';
import { DEFAULT_HOOKS } from '../../src/daemon/alerts/hook-config.ts';
import { HookRunner, MAX_QUEUED_HOOKS } from '../../src/daemon/alerts/hook-runner.ts';
import { postWebhook, WEBHOOK_CONCURRENCY, WEBHOOK_MAX_ANSWER_BYTES } from '../../src/daemon/alerts/webhook.ts';
import { captureLogger } from '../support/log-capture.ts';
import { makeRig } from '../support/engine-rig.ts';
import { fullchain, issue, makePki, type TestPki } from '../support/pki.ts';
import { failure } from '../support/scripted-fetcher.ts';
import { waitFor } from '../support/wait.ts';

let pki: TestPki;
let dir: string;
let hook: string;
before(async () => {
  pki = await makePki({ ocspUrl: 'http://127.0.0.1:9/ocsp' });
  dir = await mkdtemp(join(tmpdir(), 'stapler-alerts-hostile-'));
  hook = join(dir, 'hook.sh');
  // Writes its STAPLER_ environment and its arguments to a new file in the folder it is given.
  await writeFile(hook, '#!/bin/sh\nout="$1"; shift\nf=$(mktemp "$out/run.XXXXXX")\n{ env | grep "^STAPLER_"; printf "ARG=%s\\n" "$@"; } > "$f"\n');
  await chmod(hook, 0o755);
});

async function anAlert(): Promise<AlertDetails> {
  const rig = makeRig(pki);
  const status = await rig.stapler.add(fullchain(pki.leaf, pki.intermediate));
  await rig.stapler.close();
  return alertDetails('failureStreak', 'site.pem', status, rig.clock.now());
}

/** An HTTP server on 127.0.0.1 that `t` stops, with every socket it accepted. */
async function server(t: TestContext, handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; sockets: Set<Socket> }> {
  const s = createServer(handle);
  const sockets = new Set<Socket>();
  s.on('connection', (c: Socket) => sockets.add(c));
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const c of sockets) c.destroy();
    return new Promise<void>((resolve) => s.close(() => resolve()));
  });
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/alerts`, sockets };
}

describe('alerts with hostile values', () => {
  it('escape a NUL byte and control characters and cut 100 KiB of text before a hook gets them (execFile threw, and the daemon exited)', async () => {
    const out = await mkdtemp(join(dir, 'out-'));
    const rig = makeRig(pki);
    const { logger, lines } = captureLogger();
    const alerts = new Alerts({ ...DEFAULT_HOOKS, commands: { failureStreak: [hook, out] }, failureStreak: 1 }, { logger, label: () => 'site\n.pem' });
    alerts.watch(rig.stapler);
    rig.fetcher.script = () => failure('fetch-bad-url', `http://a\u0000b/\u001b[2J: ${'x'.repeat(100_000)}`);
    await rig.stapler.add(fullchain(pki.leaf, pki.intermediate));
    await rig.stapler.idle();
    await alerts.settled();
    const [run] = await readdir(out);
    assert.ok(run, `the hook ran: ${JSON.stringify(lines.filter((l) => l.level === 'error'))}`);
    const text = await readFile(join(out, run), 'utf8');
    const lastError = /^STAPLER_LAST_ERROR=(.*)$/m.exec(text)?.[1] ?? '';
    assert.ok(lastError.startsWith('fetch-bad-url: http://a\\x00b/\\x1b[2J: xxx'), lastError.slice(0, 80));
    assert.ok(lastError.length < ALERT_FIELD_MAX_CHARS + 100, `${lastError.length} characters`);
    assert.match(lastError, /… \(\d+ more characters\)$/);
    assert.match(text, /^STAPLER_CERT=site\\x0a\.pem$/m);
    assert.match(text, /^ARG=site\\x0a\.pem$/m);
    await rig.stapler.close();
  });

  it('a hook whose configured argv holds a NUL byte is logged as unable to run, never thrown, and gives its slot back', async () => {
    const { logger, lines } = captureLogger();
    const runner = new HookRunner(logger, { timeoutMs: 10_000, concurrency: 1 });
    const alert = await anAlert();
    assert.equal(await runner.run(['/bin/echo\u0000x'], alert), null);
    assert.ok(lines.some((l) => l.level === 'error' && l.message === 'alert hook could not run'));
    const next = await runner.run(['/bin/true'], alert);
    assert.equal(next?.code, 0, 'the one slot was given back');
  });

  it('drops hooks past the queue bound with two log lines per storm, not one per drop', async () => {
    const { logger, lines } = captureLogger();
    const runner = new HookRunner(logger, { timeoutMs: 10_000, concurrency: 1 });
    const alert = await anAlert();
    const runs = Array.from({ length: MAX_QUEUED_HOOKS + 1 + 500 }, () => runner.run(['/bin/true'], alert));
    const results = await Promise.all(runs);
    assert.equal(results.filter((r) => r === null).length, 500);
    assert.equal(lines.filter((l) => /alert hook dropped/.test(l.message)).length, 1);
    assert.ok(lines.some((l) => l.message === 'alert hook queue drained: 500 dropped while it was full'));
  });
});

describe('a hostile webhook', () => {
  it('that never answers: given up at the timeout, logged, never thrown', async (t) => {
    const { url } = await server(t, () => undefined);
    const { logger, lines } = captureLogger();
    assert.equal(await postWebhook(url, await anAlert(), logger, 300), null);
    assert.ok(
      lines.some((l) => /alert webhook failed: no complete answer within 300 ms/.test(l.message)),
      JSON.stringify(lines),
    );
  });

  it('that trickles its answer (a byte at a time, forever): cut off at the timeout for the whole exchange', async (t) => {
    const timers = new Set<NodeJS.Timeout>();
    t.after(() => timers.forEach(clearInterval));
    const { url } = await server(t, (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      timers.add(setInterval(() => res.write('x'), 20));
    });
    const { logger, lines } = captureLogger();
    assert.equal(await postWebhook(url, await anAlert(), logger, 300), null);
    assert.ok(lines.some((l) => /alert webhook failed/.test(l.message)));
  });

  it('that redirects: not followed, and the log says so', async (t) => {
    let followed = 0;
    const target = await server(t, (_req, res) => void (followed++, res.end()));
    const { url } = await server(t, (_req, res) => res.writeHead(307, { location: target.url }).end());
    const { logger, lines } = captureLogger();
    assert.equal(await postWebhook(url, await anAlert(), logger, 2_000), 307);
    assert.equal(followed, 0);
    assert.ok(lines.some((l) => l.level === 'error' && /answered HTTP 307 \(redirects are not followed/.test(l.message)));
  });

  it('that answers a huge body as fast as it can: read up to the bound, then the connection is closed', async (t) => {
    let sent = 0;
    let closed = false;
    const chunk = Buffer.alloc(16 * 1024, 0x61);
    const { url } = await server(t, (_req, res) => {
      res.once('close', () => (closed = true));
      res.writeHead(200);
      const pump = (): void => {
        while (!res.destroyed && sent < 1024 * 1024 * 1024) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
      };
      pump();
    });
    const { logger } = captureLogger();
    assert.equal(await postWebhook(url, await anAlert(), logger, 5_000), 200);
    // The client closed the connection long before the server's gigabyte was out (what the server
    // wrote is the bound plus what the loopback socket buffers held).
    await waitFor('the server to see the connection closed', () => closed);
    assert.ok(sent > WEBHOOK_MAX_ANSWER_BYTES && sent < 1024 * 1024 * 1024, `${sent} bytes sent`);
  });

  it('flooded with 300 alerts while it is slow: a few posts at once, the rest queued or dropped, the log readable', async (t) => {
    let open = 0;
    let most = 0;
    const { url } = await server(t, (req, res) => {
      open++;
      most = Math.max(most, open);
      req.resume();
      setTimeout(() => (open--, res.end()), 20);
    });
    const { logger, lines } = captureLogger();
    const rig = makeRig(pki);
    const alerts = new Alerts({ ...DEFAULT_HOOKS, webhook: url, failureStreak: 1 }, { logger, label: (s) => s.serial });
    alerts.watch(rig.stapler);
    rig.fetcher.script = () => failure('fetch-network', 'connection refused');
    const leaves = await Promise.all(
      Array.from({ length: 300 }, (_, i) => issue({ name: `l${i}.test`, issuer: pki.intermediate, ocspUrls: ['http://127.0.0.1:9/'] })),
    );
    for (const leaf of leaves) await rig.stapler.add(fullchain(leaf, pki.intermediate));
    await rig.stapler.idle();
    await alerts.settled();
    assert.ok(most <= WEBHOOK_CONCURRENCY, `${most} posts at once`);
    assert.ok(lines.filter((l) => /alert webhook dropped/.test(l.message)).length <= 1);
    assert.ok(lines.filter((l) => l.level === 'error').length < 10, 'a few error lines, not one per alert');
    await rig.stapler.close();
  });
});
