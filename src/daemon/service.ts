// The daemon with its HTTP listener: what `stapler daemon` runs. The listener opens only once the
// first round of fetches has settled (bounded), so that a server started after the daemon gets
// a staple from the responder on its first handshake. A SIGHUP that changes `listen` rebinds:
// the new address is bound first, then the old one closed; if the new one cannot be bound, the
// old one stays and the error is logged (the reload of everything else still applies).

import type { Logger } from '../engine/logger.ts';
import type { StaplerMetrics } from '../metrics/metrics.ts';
import type { DaemonConfig } from './config.ts';
import { Daemon, type DaemonDeps } from './daemon.ts';
import { formatAddress, type ListenAddress } from './http/listen-address.ts';
import { HttpListener } from './http/listener.ts';
import type { OcspObserver } from './http/ocsp-route.ts';
import type { HttpRoute } from './http/route.ts';
import { daemonRoutes } from './http/routes.ts';

/** Added to the engine's per-refresh deadline: the first round of fetches is waited for at most this long. */
export const FIRST_FETCH_MARGIN_MS = 2_000;
const DEFAULT_DEADLINE_MS = 15_000;

export interface ServiceDeps extends DaemonDeps {
  readonly ocspObserver?: OcspObserver;
  /** Serve /metrics, /healthz, /status.json and /status from these metrics. */
  readonly metrics?: StaplerMetrics;
}

export class DaemonService {
  readonly daemon: Daemon;
  /** Built once: their counters outlive a rebind. */
  readonly routes: readonly HttpRoute[];
  private listener: HttpListener | null = null;
  private readonly log: Logger;

  constructor(
    private config: DaemonConfig,
    deps: ServiceDeps,
  ) {
    this.log = deps.logger;
    this.daemon = new Daemon(config, deps);
    this.routes = daemonRoutes(this.daemon, this.log, {
      ...(deps.ocspObserver ? { ocspObserver: deps.ocspObserver } : {}),
      ...(deps.metrics ? { metrics: deps.metrics } : {}),
    });
  }

  /** Start the daemon; with `listen`, wait (bounded) for its first fetches, then listen. */
  async start(): Promise<void> {
    await this.daemon.start();
    if (!this.config.listen) return;
    await this.firstFetches();
    this.listener = await this.bind(this.config.listen);
  }

  /** The listener's bound address (the port chosen for port 0), or null. */
  address(): ListenAddress | null {
    return this.listener?.address() ?? null;
  }

  /** Apply a new configuration (SIGHUP); returns what changed. */
  async reconfigure(next: DaemonConfig): Promise<string[]> {
    const changes = await this.daemon.reconfigure(next);
    const before = this.config.listen;
    this.config = next;
    if (changes.includes('listen')) await this.rebind(before, next.listen);
    return changes;
  }

  async stop(): Promise<void> {
    await this.listener?.close();
    this.listener = null;
    await this.daemon.stop();
  }

  private async rebind(before: ListenAddress | null, after: ListenAddress | null): Promise<void> {
    const old = this.listener;
    if (!after) {
      await old?.close();
      this.listener = null;
      this.log.info({ listen: before ? formatAddress(before) : null }, 'listen removed from the configuration: no longer listening');
      return;
    }
    try {
      this.listener = await this.bind(after);
    } catch (err) {
      this.log.error(
        { listen: formatAddress(after), err: err instanceof Error ? err.message : String(err) },
        `cannot move the listener: it stays on ${before ? formatAddress(before) : 'nothing'}`,
      );
      return;
    }
    await old?.close();
  }

  private async bind(address: ListenAddress): Promise<HttpListener> {
    const listener = new HttpListener(this.routes, this.log);
    await listener.listen(address);
    return listener;
  }

  /** Settles when every certificate has a staple (or cannot have one: no responder), or at the bound. */
  private async firstFetches(): Promise<void> {
    const timeout = (this.config.engine.deadlineMs ?? DEFAULT_DEADLINE_MS) + FIRST_FETCH_MARGIN_MS;
    try {
      const report = await this.daemon.stapling.ready({ timeout });
      if (report.unstapled.length > 0)
        this.log.warn(
          { unstapled: report.unstapled.map((s) => s.subject) },
          'listening with certificates that have no staple yet: they are answered 503 until they do',
        );
    } catch (err) {
      // A Must-Staple certificate without a staple: the daemon still serves the others.
      this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'listening before every certificate has a staple');
    }
  }
}
