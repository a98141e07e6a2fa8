// The daemon's stapling probes: one cap on probes at once (/probe requests and configured targets
// together), and the configured targets probed on an interval, their last results in /metrics.
// Reads its settings when it acts: a SIGHUP may have changed them. Timers run on the injected clock.

import type { ProbeAllowRules } from '../check/probe-allow.ts';
import { probeSamples, renderProbeText, type ProbeOutcome, type ProbeSample } from '../check/probe-metrics.ts';
import { runProbe, systemLookup } from '../check/probe-run.ts';
import { parseTarget } from '../check/probe.ts';
import type { Lookup } from '../check/probe-allow.ts';
import type { Clock, TimerHandle } from '../engine/clock.ts';
import type { Logger } from '../engine/logger.ts';
import type { ProbeConfig, ProbeTargetConfig } from './probe-config.ts';

export interface ProbeServiceDeps {
  readonly clock: Clock;
  readonly log: Logger;
  /** Name resolution (default: the system's); tests resolve their own names. */
  readonly lookup?: Lookup;
}

/** The last result of a configured target. */
interface TargetResult {
  readonly labels: Record<string, string>;
  readonly samples: readonly ProbeSample[];
}

export class ProbeService {
  /** Probes running now. */
  active = 0;
  /** Probes refused at the cap since the start (requests answered 429, target rounds skipped). */
  refusedAtCap = 0;
  private readonly results = new Map<string, TargetResult>();
  private timer: TimerHandle | null = null;
  private round: Promise<void> | null = null;
  private stopped = true;
  private readonly lookup: Lookup;

  constructor(
    private readonly settings: () => ProbeConfig | null,
    private readonly deps: ProbeServiceDeps,
  ) {
    this.lookup = deps.lookup ?? systemLookup;
  }

  /**
   * One probe, within the cap: null when the cap is reached (the caller answers 429). `rules`:
   * the allow-list for a request, or null for a configured target. Throws ProbeRefused.
   */
  tryProbe(target: string, servername: string | undefined, rules: ProbeAllowRules | null): Promise<ProbeOutcome> | null {
    const config = this.settings();
    if (!config || this.active >= config.concurrency) {
      this.refusedAtCap++;
      return null;
    }
    this.active++;
    const run = async (): Promise<ProbeOutcome> =>
      runProbe(parseTarget(target), servername, {
        rules,
        lookup: this.lookup,
        ca: config.caPem === null ? undefined : Buffer.from(config.caPem),
        timeoutMs: config.timeoutMs,
        now: () => this.deps.clock.now(),
      });
    return run().finally(() => this.active--);
  }

  /** Probe the configured targets now and every intervalMs after. */
  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** The settings changed (SIGHUP): drop results of targets no longer configured, probe the rest now. */
  reconfigured(): void {
    const keep = new Set((this.settings()?.targets ?? []).map(keyOf));
    for (const k of this.results.keys()) if (!keep.has(k)) this.results.delete(k);
    if (!this.stopped) this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
    await this.round;
  }

  /** Prometheus text of every configured target's last result (empty without targets). */
  metricsText(): string {
    return renderProbeText([...this.results.values()]);
  }

  /** Resolves when the round running now (if any) has ended. */
  async settled(): Promise<void> {
    await this.round;
  }

  private schedule(delayMs: number): void {
    this.timer?.cancel();
    const config = this.settings();
    if (this.stopped || !config || config.targets.length === 0) return;
    this.timer = this.deps.clock.at(this.deps.clock.now() + delayMs, () => {
      this.timer = null;
      if (this.round) return this.schedule(config.intervalMs);
      this.round = this.probeAll().finally(() => {
        this.round = null;
        this.schedule(this.settings()?.intervalMs ?? config.intervalMs);
      });
    });
  }

  /** One round: the targets one after another (a round never takes more than one slot of the cap). */
  private async probeAll(): Promise<void> {
    const skipped: string[] = [];
    for (const t of this.settings()?.targets ?? []) {
      if (this.stopped) break;
      const running = this.tryProbe(t.target, t.servername ?? undefined, null);
      if (!running) {
        skipped.push(t.target);
        continue;
      }
      try {
        const outcome = await running;
        this.results.set(keyOf(t), { labels: { target: t.target, servername: t.servername ?? '' }, samples: probeSamples(outcome, this.deps.clock.now()) });
      } catch (err) {
        this.deps.log.error({ target: t.target, err: err instanceof Error ? err.message : String(err) }, 'probe failed');
      }
    }
    // One line per round, not per target: /probe requests may hold every slot for a while.
    if (skipped.length > 0)
      this.deps.log.warn(
        { skipped: skipped.slice(0, 20), count: skipped.length },
        'probe targets skipped this round: the probe concurrency cap was reached (their last results stay in /metrics)',
      );
  }
}

const keyOf = (t: ProbeTargetConfig): string => `${t.target}\u0000${t.servername ?? ''}`;
