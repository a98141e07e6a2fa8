// A real HAProxy for daemon tests: a folder with the leaf (chain and key in one file, HAProxy's
// way) and a configuration that serves it on loopback with an admin stats socket, and HAProxy
// started on it master-worker (-W), stopped by the test's own after hook.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { haproxyCommand } from '../../src/daemon/haproxy.ts';
import { freePort } from './openssl.ts';
import { fullchain, type TestPki } from './pki.ts';
import { waitFor } from './wait.ts';

export interface HaproxySite {
  readonly dir: string;
  readonly certFile: string;
  readonly socket: string;
  readonly port: number;
  readonly cfg: string;
  /** The reload command an operator would run: USR2 to the master. */
  readonly reloadCommand: string;
}

export async function haproxySite(pki: TestPki, prefix: string): Promise<HaproxySite> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await mkdir(join(dir, 'certs'));
  const certFile = join(dir, 'certs', 'site.pem');
  await writeFile(certFile, fullchain(pki.leaf, pki.intermediate) + pki.leaf.keyPem);
  const socket = join(dir, 'admin.sock');
  const port = await freePort();
  const cfg = join(dir, 'haproxy.cfg');
  await writeFile(
    cfg,
    `global\n  stats socket ${socket} level admin\n  pidfile ${dir}/haproxy.pid\ndefaults\n  mode http\n  timeout connect 5s\n  timeout client 5s\n  timeout server 5s\n` +
      `frontend fe\n  bind 127.0.0.1:${port} ssl crt ${certFile}\n  http-request return status 200 content-type text/plain string ok\n`,
  );
  return { dir, certFile, socket, port, cfg, reloadCommand: `kill -USR2 $(cat ${dir}/haproxy.pid)` };
}

/** Start HAProxy on the site and wait until it answers on its stats socket; stopped in `t.after`. */
export async function startHaproxy(t: TestContext, site: HaproxySite): Promise<ChildProcess> {
  const haproxy = spawn('haproxy', ['-W', '-db', '-f', site.cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  haproxy.stdout.on('data', (d: Buffer) => (output += d.toString()));
  haproxy.stderr.on('data', (d: Buffer) => (output += d.toString()));
  t.after(() => new Promise<void>((resolve) => (haproxy.exitCode !== null ? resolve() : (haproxy.once('exit', () => resolve()), haproxy.kill('SIGTERM')))));
  await waitFor('HAProxy to start', () => {
    if (haproxy.exitCode !== null) assert.fail(`haproxy exited: ${output}`);
    return existsSync(site.socket) && /Loading success/i.test(output);
  });
  await waitForReloadable(haproxy.pid!);
  return haproxy;
}

/**
 * Wait until the HAProxy master takes a reload. It prints "Loading success" and its worker
 * answers on the stats socket while the master still ignores SIGUSR2 (its handler is set when
 * its loop starts): a reload sent then is lost, and no new worker ever comes. Read off the
 * master's signal masks in /proc (Linux, where these tests run).
 */
export async function waitForReloadable(masterPid: number): Promise<void> {
  const bit = 1n << BigInt(constants.signals.SIGUSR2 - 1);
  const masks = async (): Promise<{ caught: bigint; ignored: bigint } | null> => {
    const status = await readFile(`/proc/${masterPid}/status`, 'utf8').catch(() => '');
    const caught = /^SigCgt:\s*([0-9a-f]+)$/m.exec(status)?.[1];
    const ignored = /^SigIgn:\s*([0-9a-f]+)$/m.exec(status)?.[1];
    return caught && ignored ? { caught: BigInt(`0x${caught}`), ignored: BigInt(`0x${ignored}`) } : null;
  };
  await waitFor(
    `the HAProxy master (${masterPid}) to catch SIGUSR2`,
    async () => {
      const m = await masks();
      return m !== null && (m.caught & bit) !== 0n && (m.ignored & bit) === 0n;
    },
    15_000,
    async () => JSON.stringify(await masks(), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString(16) : v)),
  );
}

/** The Pid of the HAProxy worker that answers on the stats socket (null: none answers). */
export async function haproxyWorkerPid(socket: string): Promise<string | null> {
  return /^Pid: (\d+)$/m.exec(await haproxyCommand(socket, 'show info', 2_000).catch(() => ''))?.[1] ?? null;
}
