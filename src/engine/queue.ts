// Fetches wait here for a slot. Three bounds, so that a server with 100,000 certificates neither
// floods its responders nor lets one of them hold up the rest:
//   - each responder origin has its own lane, with at most `perOrigin` fetches running and new
//     ones started at most `ratePerSecond` times a second, evenly spaced (never a burst);
//   - across all lanes, at most `limit` fetches run at once;
//   - lanes take turns, so a hung responder fills its own lane only (HAProxy #3498 is the
//     anti-example: one hung fetch stalled every certificate behind it).
// Within a lane, Must-Staple certificates go first.

import type { Clock, TimerHandle } from './clock.ts';

export interface QueueLimits {
  /** Fetches running at once, across all responders. */
  readonly limit: number;
  /** Fetches running at once to one responder origin. */
  readonly perOrigin: number;
  /** Fetches started per second to one responder origin (0: no rate limit). */
  readonly ratePerSecond: number;
}

/** The queue's bounds from the engine's settings, with their defaults (resolved here once). */
export function queueLimitsOf(o: {
  readonly concurrency?: number;
  readonly responderConcurrency?: number;
  readonly responderRatePerSecond?: number;
}): QueueLimits {
  return { limit: o.concurrency ?? 64, perOrigin: o.responderConcurrency ?? 8, ratePerSecond: o.responderRatePerSecond ?? 200 };
}

interface Job {
  readonly start: () => void;
}

class Lane {
  running = 0;
  /** The earliest time the next fetch may start (the rate limit). */
  nextStartAt = -Infinity;
  readonly urgent: Job[] = [];
  readonly normal: Job[] = [];
  urgentHead = 0;
  normalHead = 0;
  timer: TimerHandle | null = null;
  /** In the queue's turn order. */
  inTurns = false;

  get pending(): number {
    return this.urgent.length - this.urgentHead + (this.normal.length - this.normalHead);
  }

  /** The next job (a head index, not shift(): shift is linear in a 100,000-job queue). */
  take(): Job | undefined {
    if (this.urgentHead < this.urgent.length) return this.takeFrom(this.urgent, true);
    if (this.normalHead < this.normal.length) return this.takeFrom(this.normal, false);
    return undefined;
  }

  private takeFrom(jobs: Job[], urgent: boolean): Job {
    const head = urgent ? this.urgentHead++ : this.normalHead++;
    const job = jobs[head]!;
    if (head + 1 === jobs.length) {
      jobs.length = 0;
      if (urgent) this.urgentHead = 0;
      else this.normalHead = 0;
    }
    return job;
  }
}

export class FetchQueue {
  private running = 0;
  private readonly lanes = new Map<string, Lane>();
  /** Lanes with jobs waiting, in turn order. */
  private readonly turns: Lane[] = [];

  constructor(
    private limits: QueueLimits,
    private readonly clock: Clock,
  ) {}

  /** New bounds (reconfigure): running fetches finish; wider bounds start queued fetches at once. */
  setLimits(limits: QueueLimits): void {
    this.limits = limits;
    this.pump();
  }

  get pending(): number {
    let n = 0;
    for (const lane of this.lanes.values()) n += lane.pending;
    return n;
  }

  get active(): number {
    return this.running;
  }

  /** Fetches running now to one origin (for tests and status). */
  activeFor(origin: string): number {
    return this.lanes.get(origin)?.running ?? 0;
  }

  /** Run `task` when its origin's lane and the whole queue have a slot; urgent tasks go first in their lane. */
  run<T>(origin: string, urgent: boolean, task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let lane = this.lanes.get(origin);
      if (!lane) this.lanes.set(origin, (lane = new Lane()));
      const owner = lane;
      const job: Job = {
        start: () => {
          this.running++;
          owner.running++;
          let result: Promise<T>;
          try {
            result = task();
          } catch (err) {
            result = Promise.reject(err instanceof Error ? err : new Error(String(err)));
          }
          result.then(resolve, reject).finally(() => {
            this.running--;
            owner.running--;
            this.pump();
          });
        },
      };
      (urgent ? lane.urgent : lane.normal).push(job);
      this.enqueue(lane);
      this.pump();
    });
  }

  /** Put a lane with jobs waiting in line for a turn; true if it was put there now. */
  private enqueue(lane: Lane): boolean {
    if (lane.inTurns || lane.pending === 0) return false;
    lane.inTurns = true;
    this.turns.push(lane);
    return true;
  }

  /**
   * Start what the bounds allow, one job per lane per turn. Lanes that are full or waiting for
   * their rate timer go back in line; each pass looks at each lane at most once per start.
   */
  private pump(): void {
    const interval = this.limits.ratePerSecond > 0 ? 1000 / this.limits.ratePerSecond : 0;
    let looks = this.turns.length;
    while (this.running < this.limits.limit && looks > 0) {
      const lane = this.turns.shift()!;
      lane.inTurns = false;
      looks--;
      if (lane.pending === 0) continue;
      if (lane.running >= this.limits.perOrigin || lane.timer) {
        this.enqueue(lane);
        continue;
      }
      const now = this.clock.now();
      if (now < lane.nextStartAt) {
        lane.timer = this.clock.at(lane.nextStartAt, () => {
          lane.timer = null;
          this.pump();
        });
        this.enqueue(lane);
        continue;
      }
      // Evenly spaced from this start: a late timer does not make up for lost time with a burst.
      lane.nextStartAt = interval > 0 ? now + interval : -Infinity;
      lane.take()!.start();
      if (this.enqueue(lane)) looks++;
    }
  }
}
