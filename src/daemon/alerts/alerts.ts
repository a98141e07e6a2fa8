// Alerts: the engine's events, turned into hook runs and webhook posts once per transition. An
// alert fires when a certificate enters the condition and not again until it has left it (a
// new staple clears them all), so a failing refresh retried every few minutes alerts once.

import type { StaplingEngine } from '../../engine/engine.ts';
import type { Logger } from '../../engine/logger.ts';
import type { CertificateStatus } from '../../engine/types.ts';
import { alertDetails, type AlertDetails } from './alert.ts';
import type { HookEvent, HooksConfig } from './hook-config.ts';
import { HookRunner, MAX_QUEUED_HOOKS } from './hook-runner.ts';
import { TaskQueue } from './task-queue.ts';
import { postWebhook, WEBHOOK_CONCURRENCY, WEBHOOK_TIMEOUT_MS } from './webhook.ts';

/** Alerts remembered as raised; far more than any managed set has at once. */
const MAX_RAISED = 100_000;

export interface AlertsOptions {
  readonly logger: Logger;
  /** The certificate's label in alerts (the daemon: its file). */
  readonly label: (s: CertificateStatus) => string;
  readonly now?: () => number;
}

export class Alerts {
  /** `${event} ${certificate id}` for every alert raised and not yet cleared. */
  private readonly raised = new Set<string>();
  private readonly runner: HookRunner;
  /** Webhook posts: a few at once, a bounded number waiting (an alert storm opens no more sockets). */
  private readonly webhookQueue: TaskQueue;
  private readonly webhooks = new Set<Promise<unknown>>();

  constructor(
    private config: HooksConfig,
    private readonly opts: AlertsOptions,
  ) {
    this.runner = new HookRunner(opts.logger, config);
    this.webhookQueue = new TaskQueue('alert webhook', opts.logger, WEBHOOK_CONCURRENCY, MAX_QUEUED_HOOKS);
  }

  /** A new configuration (SIGHUP): alerts already raised stay raised. */
  configure(config: HooksConfig): void {
    this.config = config;
    this.runner.configure(config);
  }

  /** Alert on this engine's events (the daemon's one engine, for its whole life). */
  watch(engine: StaplingEngine): void {
    engine.on('revoked', (s) => this.raise('revoked', s));
    engine.on('expired', (s) => this.raise('expired', s));
    engine.on('mustStapleAtRisk', (s) => this.raise('mustStapleAtRisk', s));
    engine.on('refreshFailed', (s) => {
      if (s.consecutiveFailures >= this.config.failureStreak) this.raise('failureStreak', s);
    });
    engine.on('updated', (s) => {
      // A new staple ends every condition but revocation, which ends only with a good status.
      for (const event of ['expired', 'mustStapleAtRisk', 'failureStreak'] as const) this.raised.delete(`${event} ${s.id}`);
      if (s.certStatus === 'good') this.raised.delete(`revoked ${s.id}`);
    });
  }

  /** Resolves when every hook and webhook started so far has finished. */
  async settled(): Promise<void> {
    await this.runner.settled();
    while (this.webhooks.size > 0) await Promise.allSettled([...this.webhooks]);
  }

  /** Called from the engine's events: nothing here may throw into the engine. */
  private raise(event: HookEvent, s: CertificateStatus): void {
    try {
      this.raiseOnce(event, s);
    } catch (err) {
      this.opts.logger.error({ event, err: err instanceof Error ? err.message : String(err) }, 'alert failed unexpectedly');
    }
  }

  private raiseOnce(event: HookEvent, s: CertificateStatus): void {
    const key = `${event} ${s.id}`;
    if (this.raised.has(key)) return;
    this.raised.add(key);
    // Bounded: ids of certificates long gone (renewed) are forgotten first.
    if (this.raised.size > MAX_RAISED) this.raised.delete(this.raised.values().next().value!);
    const alert = alertDetails(event, this.opts.label(s), s, (this.opts.now ?? Date.now)());
    this.opts.logger.warn({ event, cert: alert.cert }, `alert: ${event}`);
    this.send(alert);
  }

  private send(alert: AlertDetails): void {
    const argv = this.config.commands[alert.event];
    if (argv) void this.runner.run(argv, alert);
    const url = this.config.webhook;
    if (url) {
      const timeoutMs = Math.min(this.config.timeoutMs, WEBHOOK_TIMEOUT_MS);
      const p = this.webhookQueue.run(() => postWebhook(url, alert, this.opts.logger, timeoutMs), { event: alert.event, cert: alert.cert });
      if (!p) return;
      this.webhooks.add(p);
      void p.finally(() => this.webhooks.delete(p));
    }
  }
}
