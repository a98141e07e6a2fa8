// The public Stapler: the engine with the default wiring (a directory store, the HTTP fetcher,
// pino), plus attach() for Node's TLS servers. The engine itself knows nothing of servers.

import type { Server as TlsServer } from 'node:tls';
import { StaplingEngine } from '../engine/engine.ts';
import { defaultLogger } from '../engine/logger.ts';
import { validateOptions } from '../engine/options.ts';
import { httpFetcherFor, resolveStore } from '../wiring/defaults.ts';
import { InstrumentedFetcher } from '../metrics/instrumented-fetcher.ts';
import { StaplerMetrics, type HandshakeCounts, type StaplerMetricsOptions } from '../metrics/metrics.ts';
import { attach } from './attach.ts';
import type { StaplerOptions } from './options.ts';

type FetchTimer = (responderHost: string, seconds: number) => void;

/**
 * Keeps a fresh, verified OCSP response for each certificate it is given, and staples it on the
 * TLS servers it is attached to. Handshakes never wait on the network.
 */
export class Stapler extends StaplingEngine {
  private readonly detachers: (() => void)[] = [];
  private readonly handshakeCounts = { stapled: 0, unstapled: 0 };
  /** The metrics that time the built-in fetcher (those made by metrics()). */
  private readonly fetchTimers: FetchTimer[];

  constructor(options: StaplerOptions = {}) {
    // Checked before anything is built from them.
    validateOptions(options);
    const logger = options.logger ?? defaultLogger();
    const timers: FetchTimer[] = [];
    // The built-in fetcher is timed for whichever metrics() are made later; a fetcher given in
    // the options is the caller's to instrument (StaplerMetrics.instrumentFetcher).
    const fetcher =
      options.fetcher ??
      new InstrumentedFetcher(httpFetcherFor(options), (host, seconds) => {
        for (const timer of timers) timer(host, seconds);
      });
    super({ ...options, logger, store: resolveStore(options.store, logger, options.clock), fetcher });
    this.fetchTimers = timers;
  }

  /** Staple on a tls.Server, https.Server or http2 secure server. Attach before listen(). */
  attach(server: TlsServer): this {
    this.detachers.push(attach(this, server, this.log, this.handshakeCounts));
    return this;
  }

  /** Handshakes on attached servers that asked for a staple: stapled, and not. */
  get handshakes(): HandshakeCounts {
    return { ...this.handshakeCounts };
  }

  /**
   * Prometheus metrics for this Stapler, in `options.registry` (your application's) or a registry
   * of their own (`.registry`). The built-in fetcher's durations are timed; a fetcher or store
   * given in the options is measured when wrapped (StaplerMetrics.instrumentFetcher /
   * instrumentStore). Needs the optional package prom-client.
   */
  metrics(options: StaplerMetricsOptions = {}): StaplerMetrics {
    const metrics = new StaplerMetrics(options).observe(this, () => this.handshakes);
    this.fetchTimers.push(metrics.fetchRecorder());
    return metrics;
  }

  override async close(): Promise<void> {
    for (const detach of this.detachers.splice(0)) detach();
    await super.close();
  }
}
