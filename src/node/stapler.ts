// The public Stapler: the engine with the default wiring (a directory store, the HTTP fetcher,
// pino), plus attach() for Node's TLS servers. The engine itself knows nothing of servers.

import type { Server as TlsServer } from 'node:tls';
import { StaplingEngine } from '../engine/engine.ts';
import { defaultLogger } from '../engine/logger.ts';
import { validateOptions } from '../engine/options.ts';
import type { StaplerOptions } from '../engine/types.ts';
import { httpFetcherFor, resolveStore } from '../wiring/defaults.ts';
import { StaplerMetrics, type HandshakeCounts, type StaplerMetricsOptions } from '../metrics/metrics.ts';
import { attach } from './attach.ts';

export class Stapler extends StaplingEngine {
  private readonly detachers: (() => void)[] = [];
  private readonly handshakeCounts = { stapled: 0, unstapled: 0 };

  constructor(options: StaplerOptions = {}) {
    // Checked before anything is built from them.
    validateOptions(options);
    const logger = options.logger ?? defaultLogger();
    super({ ...options, logger, store: resolveStore(options.store, logger, options.clock), fetcher: options.fetcher ?? httpFetcherFor(options) });
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
   * of their own (`.registry`). Fetch durations and store errors are measured when the fetcher
   * and store are wrapped: see StaplerMetrics.instrumentFetcher / instrumentStore.
   */
  metrics(options: StaplerMetricsOptions = {}): StaplerMetrics {
    return new StaplerMetrics(options).observe(this, () => this.handshakes);
  }

  override async close(): Promise<void> {
    for (const detach of this.detachers.splice(0)) detach();
    await super.close();
  }
}
