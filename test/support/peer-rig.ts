// What the real-peer tests share: a test CA (TestResponder) and the Stapler daemon answering
// OCSP on 127.0.0.1 (`listen`), in a private temp dir, on the real clock (the peers read the
// real clock too). Everything started is stopped by `close()`.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildConfig } from '../../src/daemon/config.ts';
import type { Daemon } from '../../src/daemon/daemon.ts';
import { DaemonService } from '../../src/daemon/service.ts';
import { silentLogger } from '../../src/engine/logger.ts';
import { freePort } from './openssl.ts';
import { fullchain, makePki, type TestPki } from './pki.ts';
import { TestResponder } from './responder.ts';
import { handshake, opensslStatus, type OpensslStatus } from './tls.ts';
import { waitFor } from './wait.ts';

export const SECOND = 1_000;

export class PeerRig {
  readonly cleanups: (() => Promise<unknown> | void)[] = [];
  private readonly services = new Map<Daemon, DaemonService>();
  responder!: TestResponder;
  pki!: TestPki;

  async open(): Promise<void> {
    this.responder = new TestResponder();
    this.pki = await makePki({ ocspUrl: await this.responder.listen() });
    this.responder.serve(this.pki);
  }

  async close(): Promise<void> {
    for (const c of this.cleanups.splice(0).reverse()) await c();
  }

  async closeAll(): Promise<void> {
    await this.close();
    await this.responder.close();
  }

  /** A private dir with the site's chain and key in certs/site.pem; the CA back to good. */
  async site(name: string): Promise<{ dir: string; certFile: string }> {
    this.responder.behaviour = 'good';
    this.responder.validityMs = 24 * 3_600_000;
    this.responder.now = () => Date.now();
    const dir = await mkdtemp(join(tmpdir(), `stapler-${name}-`));
    this.cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await mkdir(join(dir, 'certs'));
    const certFile = join(dir, 'certs', 'site.pem');
    await writeFile(certFile, fullchain(this.pki.leaf, this.pki.intermediate) + this.pki.leaf.keyPem);
    await writeFile(join(dir, 'root.pem'), this.pki.root.pem);
    return { dir, certFile };
  }

  /**
   * The daemon with its OCSP responder on 127.0.0.1:port, as `stapler daemon` runs it
   * (DaemonService: the first fetches settle, then it listens). Also stopped by close().
   */
  async daemon(dir: string, port: number, settings: Record<string, unknown> = {}): Promise<Daemon> {
    const config = buildConfig(
      {
        certificates: [join(dir, 'certs', '*.pem')],
        stateFile: join(dir, 'state.json'),
        storeDir: join(dir, 'store'),
        listen: `127.0.0.1:${port}`,
        ...settings,
      },
      dir,
    );
    const service = new DaemonService(config, { logger: silentLogger });
    this.cleanups.push(() => service.stop());
    this.services.set(service.daemon, service);
    await service.start();
    return service.daemon;
  }

  /** Stop a daemon this rig started, its listener first. */
  async stopDaemon(daemon: Daemon): Promise<void> {
    await this.services.get(daemon)?.stop();
  }

  /**
   * A daemon that has fetched its first staple, or (when the CA answers badly) asked the CA at
   * least once: the start order of docs/daemon.md, the daemon first.
   */
  async readyDaemon(dir: string, settings: Record<string, unknown> = {}, port?: number): Promise<{ daemon: Daemon; port: number; url: string }> {
    const p = port ?? (await freePort());
    const asked = this.responder.requestCount;
    const daemon = await this.daemon(dir, p, settings);
    if (this.responder.behaviour === 'good') await waitFor("the daemon's first staple", () => hasStaple(daemon));
    else await waitFor('the daemon to ask the CA', () => this.responder.requestCount > asked);
    return { daemon, port: p, url: `http://127.0.0.1:${p}/` };
  }
}

export { freePort };

export const hasStaple = (daemon: Daemon): boolean => daemon.state().files.some((f) => f.validUntil !== null);

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The serial of the certificate a staple speaks for, as openssl prints it, or null. */
export const stapledSerial = (s: OpensslStatus): string | null => /Serial Number: ([0-9A-F]+)/i.exec(s.output)?.[1]?.toUpperCase() ?? null;

/** A handshake's staple and how long it took (a Node client: no process start in the figure). */
export async function timedHandshake(port: number): Promise<{ ms: number; stapled: boolean }> {
  const t = performance.now();
  const h = await handshake(port, { tls: '1.2' });
  return { ms: performance.now() - t, stapled: h.staple !== null };
}

/** Wait until a server staples (a lazy fetcher, such as nginx, staples from a later handshake). */
export async function waitStapled(port: number, what: string, timeoutMs = 15_000): Promise<OpensslStatus> {
  let last: OpensslStatus | null = null;
  await waitFor(
    what,
    async () => {
      last = await opensslStatus(port);
      return last.stapled;
    },
    timeoutMs,
  );
  return last!;
}

/**
 * Probe until the server stops stapling (its staple reached nextUpdate during an outage), and fail
 * if any handshake on the way stapled a response past its nextUpdate. openssl prints whole seconds,
 * and Apache runs with SSLStaplingResponseTimeSkew 1: 2 s of grace.
 */
export async function waitUntilUnstapledAtExpiry(port: number, server: string): Promise<void> {
  let stapledAfterExpiry = 0;
  await waitFor(
    `${server} to stop stapling`,
    async () => {
      const s = await opensslStatus(port);
      const nextUpdate = /Next Update: (.+)/.exec(s.output)?.[1];
      if (s.stapled && nextUpdate && Date.now() > Date.parse(nextUpdate) + 2 * SECOND) stapledAfterExpiry++;
      return !s.stapled;
    },
    30 * SECOND,
  );
  assert.equal(stapledAfterExpiry, 0, `${server} stapled a response past its nextUpdate`);
}

/**
 * Daemon settings for a CA that fails from the start: the daemon's start() waits for its first
 * fetches to end, at most deadlineMs + 2 s, so keep that short.
 */
export const QUICK_FAILURES = { timeoutMs: 1_000, deadlineMs: 2_000 } as const;
