// Wakes whoever waits for "something changed" (ready() waits on this), with a deadline on a
// timer that keeps the process alive: someone awaits it, and the fetch it waits for may hold no
// handle of its own.

import type { Clock } from './clock.ts';

export class ChangeSignal {
  private readonly waiters = new Set<() => void>();

  constructor(private readonly clock: Clock) {}

  /** Resolves at the next notify(), or at the deadline. */
  next(deadline: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.clock.at(deadline, () => done(), true);
      const done = (): void => {
        this.waiters.delete(done);
        timer.cancel();
        resolve();
      };
      this.waiters.add(done);
    });
  }

  notify(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const w of waiters) w();
  }
}
