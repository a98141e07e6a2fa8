// `npm run demo`: Stapler end to end on loopback, with no internet. A local CA and OCSP
// responder; an https server stapling through the library, with the default directory store;
// a client that checks every handshake as a strict client would. It walks through prefetch, a
// responder outage that the staple survives, the recovery, a restart that staples from disk,
// and bad answers that are never stapled. It prints a timeline and stops by itself.

import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatDuration, parseTarget, probe } from '../src/check/probe.ts';
import { silentLogger } from '../src/engine/logger.ts';
import { DEFAULT_REFRESH_SETTINGS } from '../src/engine/policy.ts';
import { Stapler } from '../src/node/stapler.ts';
import { fullchain, makePki } from '../test/support/pki.ts';
import { TestResponder, type Behaviour } from '../test/support/responder.ts';

const start = Date.now();
const say = (s: string): void => console.log(`${`+${((Date.now() - start) / 1000).toFixed(1)}s`.padStart(7)}  ${s}`);
const step = (s: string): void => console.log(`\n== ${s}`);

const responder = new TestResponder();
const storeDir = await mkdtemp(join(tmpdir(), 'stapler-demo-'));
// The default store is a directory; point it at a temporary one for the demo.
process.env.STAPLER_STORE_DIR = storeDir;
const url = await responder.listen();
const pki = await makePki({ ocspUrl: url });
responder.serve(pki);
responder.validityMs = 4 * 3_600_000;
const cert = fullchain(pki.leaf, pki.intermediate);
let port = 0;

async function startServer(): Promise<{ stapler: Stapler; server: Server }> {
  const stapler = new Stapler({ logger: silentLogger, timeoutMs: 1_000, deadlineMs: 2_000 });
  stapler.on('updated', (s) =>
    say(
      `  event updated: staple for serial ${s.serial} (${s.certStatus}) from the ${s.source === 'store' ? 'store on disk' : 'responder'}, valid until ${new Date(s.validUntil!).toISOString()}`,
    ),
  );
  stapler.on('refreshFailed', (s) =>
    say(`  event refreshFailed: ${s.lastError?.reason} (keeping ${s.state === 'stapled-refresh-failing' ? 'the last good staple' : 'nothing'})`),
  );
  await stapler.add(cert);
  const server = createServer({ cert, key: pki.leaf.keyPem }, (_req, res) => res.end('hello from a stapled server\n'));
  stapler.attach(server);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  return { stapler, server };
}

async function stop(s: { stapler: Stapler; server: Server }): Promise<void> {
  await new Promise<void>((resolve) => s.server.close(() => resolve()));
  await s.stapler.close();
}

/**
 * One handshake, judged like `stapler check`. `expect` says what the demo expects: a valid
 * staple, or none (a bad answer must never be stapled). The line says whether that happened.
 */
async function client(label: string, expect: 'staple' | 'no staple' = 'staple'): Promise<boolean> {
  const r = await probe(parseTarget(`127.0.0.1:${port}`), { servername: 'leaf.test', ca: pki.root.pem, timeoutMs: 5_000, now: Date.now });
  const tu = r.staple?.thisUpdate ? `, thisUpdate ${new Date(r.staple.thisUpdate).toISOString()}` : '';
  const asExpected = expect === 'staple' ? r.ok : r.staple === null;
  say(
    `client ${label}: ${asExpected ? 'as expected' : `NOT AS EXPECTED (expected ${expect === 'staple' ? 'a valid staple' : 'no staple'})`}: ${r.summary}${tu}`,
  );
  return asExpected;
}

/** Why the next try is when it is: the backoff cap applies only when it is shorter than the backoff itself. */
function retryReason(s: { nextRefreshAt: number | null; validUntil: number | null; consecutiveFailures: number }): string {
  const settings = DEFAULT_REFRESH_SETTINGS;
  const backoff = Math.min(settings.backoffInitialMs * 2 ** Math.max(s.consecutiveFailures - 1, 0), settings.backoffMaxMs);
  const cap = s.validUntil === null ? Infinity : (s.validUntil - Date.now()) / settings.triesBeforeExpiry;
  return cap < backoff
    ? `backoff capped near expiry: at most a quarter of the ${formatDuration(s.validUntil! - Date.now())} left`
    : `exponential backoff: ${formatDuration(backoff)} after failure ${s.consecutiveFailures}, ± jitter`;
}

const results: boolean[] = [];
try {
  say(`local CA issued ${pki.leaf.cert.subject} (serial ${pki.leaf.cert.serialHex}); its OCSP responder: ${url}`);
  say(`staples are kept in ${storeDir} (the default directory store)`);

  step('1. Prefetch: the staple is fetched when the certificate is added, not at the first handshake');
  let running = await startServer();
  const report = await running.stapler.ready({ timeout: 5_000 });
  say(`ready(): ${report.stapled.length} stapled; the responder has seen ${responder.requestCount} request(s); server on 127.0.0.1:${port}`);
  results.push(await client('first handshake'));

  step('2. Outage: the responder hangs; the refresh fails, and the last good staple is still served');
  responder.behaviour = 'hang';
  await running.stapler.refreshNow(cert);
  const s = running.stapler.status()[0]!;
  say(`state ${s.state}; next try ${new Date(s.nextRefreshAt!).toISOString()} (${retryReason(s)})`);
  results.push(await client('during the outage'));

  step('3. Recovery: the responder answers again; the next refresh installs a newer response');
  responder.behaviour = 'good';
  await new Promise((r) => setTimeout(r, 1_100)); // so that the new thisUpdate differs by a second
  await running.stapler.refreshNow(cert);
  results.push(await client('after recovery'));

  step('4. Restart during an outage: the new process staples from disk before any fetch');
  await stop(running);
  responder.behaviour = 'http-500';
  const before = responder.requestCount;
  running = await startServer();
  results.push(await client('first handshake after restart (no ready(), responder down)'));
  say(`requests to the responder since the restart: ${responder.requestCount - before} (the stored staple is fresh: none needed)`);

  step('5. Bad answers are never stapled (the store is emptied each time, so there is no good staple to fall back on)');
  await stop(running);
  for (const behaviour of ['wrong-serial', 'expired', 'bad-signature', 'tryLater'] as Behaviour[]) {
    await rm(storeDir, { recursive: true, force: true });
    responder.behaviour = behaviour;
    running = await startServer();
    await running.stapler.ready({ timeout: 2_000 });
    const st = running.stapler.status()[0]!;
    say(`responder answers "${behaviour}": refused (${st.lastError?.reason}); handshakes must get no staple`);
    results.push(await client(`with "${behaviour}"`, 'no staple'));
    await stop(running);
  }
  responder.behaviour = 'good';

  const passed = results.filter(Boolean).length;
  console.log(`\n${passed} of ${results.length} checks as expected, in ${formatDuration(Date.now() - start)}`);
  process.exitCode = passed === results.length ? 0 : 1;
} finally {
  await responder.close();
  await rm(storeDir, { recursive: true, force: true });
}
