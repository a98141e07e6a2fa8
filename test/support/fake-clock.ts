// A fake clock for the engine: time moves only when a test says so, and due timers run in order,
// with pending promises allowed to settle between them.

import type { Clock, TimerHandle } from '../../src/engine/clock.ts';
import { cryptoJobsDone, cryptoJobsInFlight } from './crypto-jobs.ts';

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * Let promise chains, I/O-free async work and signature checks on the thread pool settle: after
 * each check that was in flight, the rounds start again (work is finite on a fake clock).
 */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (cryptoJobsInFlight() > 0) {
      await cryptoJobsDone();
      i = -1;
    }
  }
}

export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private timers: Timer[] = [];

  constructor(start = Date.UTC(2026, 10, 21, 12, 0, 0)) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  at(at: number, fn: () => void): TimerHandle {
    const timer: Timer = { at, seq: this.seq++, fn, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => void (timer.cancelled = true) };
  }

  /** The time of the earliest pending timer. */
  nextTimer(): number | null {
    const live = this.timers.filter((t) => !t.cancelled);
    return live.length ? Math.min(...live.map((t) => t.at)) : null;
  }

  /** Move time to `at` without running the timers that fall due: a timer that fires late. */
  jumpTo(at: number): void {
    this.t = Math.max(this.t, at);
  }

  /** Move time forward by `ms`, running every timer that falls due, in order. */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.t + ms);
  }

  async advanceTo(target: number): Promise<void> {
    await settle();
    for (;;) {
      this.timers = this.timers.filter((t) => !t.cancelled);
      const due = this.timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.timers.splice(this.timers.indexOf(due), 1);
      this.t = Math.max(this.t, due.at);
      due.fn();
      await settle();
    }
    this.t = Math.max(this.t, target);
    await settle();
  }
}
