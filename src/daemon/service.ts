// The daemon with its HTTP listener: what `stapler daemon` runs. The listener binds first, so that
// an address in use is a start failure reported at once (not a daemon that runs with no
// listener); it answers 503 "starting" until the certificate files are read, then each
// certificate is answered from the engine (503 with Retry-After until its first staple).
// start() resolves once every certificate's first fetch has ended, one way or the other (bounded),
// so a server started after it finds the staples there. A SIGHUP that changes `listen` rebinds:
// the new address is bound first, then the old one closed; if the new one cannot be bound, the
// old one stays and the error is logged (the reload of everything else still applies).

import { systemClock, type Clock, type TimerHandle } from '../engine/clock.ts';
import type { Logger } from '../engine/logger.ts';
import type { StaplerMetrics } from '../metrics/metrics.ts';
import type { DaemonConfig } from './config.ts';
import { Daemon, type DaemonDeps } from './daemon.ts';
import { formatAddress, type ListenAddress } from './http/listen-address.ts';
import { HttpListener } from './http/listener.ts';
import type { OcspObserver } from './http/ocsp-route.ts';
import type { HttpRoute } from './http/route.ts';
import { daemonRoutes } from './http/routes.ts';
import type { Lookup } from '../check/probe-allow.ts';
import { ProbeService } from './probe-service.ts';
import { SystemdNotifier } from './systemd-notify.ts';

/** Added to the engine's per-refresh deadline: the first round of fetches is waited for at most this long. */
export const FIRST_FETCH_MARGIN_MS = 2_000;
const DEFAULT_DEADLINE_MS = 15_000;

export interface ServiceDeps extends DaemonDeps {
  readonly ocspObserver?: OcspObserver;
  /** Serve /metrics, /healthz, /status.json and /status from these metrics. */
  readonly metrics?: StaplerMetrics;
  /** The environment systemd's NOTIFY_SOCKET and WATCHDOG_USEC are read from (default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
  /** How probe targets' names are resolved (default: the system's resolver). */
  readonly probeLookup?: Lookup;
}

export class DaemonService {
  readonly daemon: Daemon;
  /** Built once: their counters outlive a rebind. */
  readonly routes: readonly HttpRoute[];
  readonly probes: ProbeService;
  private listener: HttpListener | null = null;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly notifier: SystemdNotifier | null;

  constructor(
    private config: DaemonConfig,
    deps: ServiceDeps,
  ) {
    this.log = deps.logger;
    this.clock = deps.clock ?? systemClock;
    this.notifier = SystemdNotifier.fromEnv(deps.env ?? process.env, this.log, this.clock);
    this.daemon = new Daemon(config, deps);
    this.probes = new ProbeService(() => this.config.probe, { clock: this.clock, log: this.log, ...(deps.probeLookup ? { lookup: deps.probeLookup } : {}) });
    this.routes = daemonRoutes(this.daemon, this.log, {
      ...(deps.ocspObserver ? { ocspObserver: deps.ocspObserver } : {}),
      ...(deps.metrics ? { metrics: deps.metrics } : {}),
      probes: { service: this.probes, settings: () => this.config.probe, now: () => this.clock.now() },
    });
  }

  /**
   * Bind (throws if the address cannot be had), start the daemon (which writes every nginx
   * include, "off" until a staple comes), wait (bounded) for its first fetches, and tell
   * systemd it is ready.
   */
  async start(): Promise<void> {
    if (this.config.listen) this.listener = await this.bind(this.config.listen, false);
    await this.daemon.start();
    this.listener?.open();
    this.probes.start();
    await this.firstFetches();
    await this.notifier?.ready(this.statusLine());
  }

  /** systemd's STATUS= line: the counts. */
  statusLine(): string {
    const files = this.daemon.state().files;
    const n = (p: (f: (typeof files)[number]) => boolean): number => files.filter(p).length;
    const failing = n((f) => f.outputs.some((o) => !o.ok));
    return `${n((f) => f.stapleWritten || f.state === 'stapled' || f.state === 'stapled-refresh-failing')} stapled, ${n((f) => f.state === 'unstapled' || f.state === 'pending')} without a staple, ${n((f) => f.state === 'unusable' || f.state === 'no-issuer')} unusable${failing ? `, ${failing} with a failing output` : ''}`;
  }

  /** The listener's bound address (the port chosen for port 0), or null. */
  address(): ListenAddress | null {
    return this.listener?.address() ?? null;
  }

  /** Apply a new configuration (SIGHUP); returns what changed (a listener that could not move says so). */
  async reconfigure(next: DaemonConfig): Promise<string[]> {
    await this.notifier?.reloading();
    try {
      return await this.apply(next);
    } finally {
      await this.notifier?.ready(this.statusLine());
    }
  }

  /** A configuration refused (SIGHUP): systemd hears that the reload ended. */
  async reloadRefused(): Promise<void> {
    this.daemon.reloadRefused();
    await this.notifier?.ready(this.statusLine());
  }

  private async apply(next: DaemonConfig): Promise<string[]> {
    const changes = (await this.daemon.reconfigure(next)).filter((c) => c !== 'listen');
    const before = this.config.listen;
    // Compared with the address in use (not the last configuration): a move that failed is tried again.
    if (JSON.stringify(before) === JSON.stringify(next.listen)) {
      this.config = next;
      this.probes.reconfigured();
      return changes;
    }
    const refused = await this.rebind(before, next.listen);
    this.config = refused ? { ...next, listen: before } : next;
    this.probes.reconfigured();
    return [...changes, refused ? `listen (refused: ${refused})` : 'listen'];
  }

  async stop(): Promise<void> {
    await this.notifier?.stopping();
    await this.probes.stop();
    await this.listener?.close();
    this.listener = null;
    await this.daemon.stop();
  }

  /** Move the listener; returns why it could not (it then stays where it was), or null. */
  private async rebind(before: ListenAddress | null, after: ListenAddress | null): Promise<string | null> {
    const old = this.listener;
    if (!after) {
      await old?.close();
      this.listener = null;
      this.log.info({ listen: before ? formatAddress(before) : null }, 'listen removed from the configuration: no longer listening');
      return null;
    }
    try {
      this.listener = await this.bind(after, true);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      this.log.error({ listen: formatAddress(after), err: why }, `cannot move the listener: it stays on ${before ? formatAddress(before) : 'nothing'}`);
      return `${why}; it stays on ${before ? formatAddress(before) : 'nothing'}`;
    }
    await old?.close();
    return null;
  }

  private async bind(address: ListenAddress, open: boolean): Promise<HttpListener> {
    const listener = new HttpListener(this.routes, this.log, open);
    await listener.listen(address);
    return listener;
  }

  /**
   * Settles when every certificate registered now has had its first fetch end (a staple, or a
   * failure: it is answered 503 meanwhile) and the staple files and includes it led to are
   * written (READY=1 promises a server started after it finds them), or at the bound.
   * Certificates found later are not waited for.
   */
  private async firstFetches(): Promise<void> {
    const timeout = (this.config.engine.deadlineMs ?? DEFAULT_DEADLINE_MS) + FIRST_FETCH_MARGIN_MS;
    const engine = this.daemon.engine;
    // No fetch running or queued: every first fetch has ended (retries wait on timers, not here).
    // Its staple's writes were queued as it ended (the engine's 'updated' event): they are waited for too.
    let timer: TimerHandle | undefined;
    const written = engine.idle().then(() => this.daemon.outputsWritten());
    await Promise.race([written, new Promise<void>((resolve) => (timer = this.clock.at(this.clock.now() + timeout, resolve, true)))]);
    timer?.cancel();
    const statuses = engine.status();
    const unstapled = this.daemon.state().files.filter((f) => f.state === 'pending' || f.state === 'unstapled');
    if (unstapled.length > 0)
      this.log.warn(
        { unstapled: unstapled.slice(0, 20).map((f) => f.file), count: unstapled.length },
        this.listener
          ? 'certificates without a staple after their first fetch: the responder answers 503 for them until they have one'
          : 'certificates without a staple after their first fetch: no staple file for them until they have one',
      );
    const stapled = statuses.filter((s) => s.state === 'stapled' || s.state === 'stapled-refresh-failing').length;
    this.log.info({ stapled, unstapled: unstapled.length, listen: this.listener ? this.address() : null }, 'ready: the first fetches are done');
  }
}
