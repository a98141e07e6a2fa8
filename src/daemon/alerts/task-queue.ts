// A bounded queue for alert work (hook runs, webhook posts): at most `concurrency` tasks at once,
// at most `maxWaiting` more waiting; past that a task is dropped. A storm of alerts costs bounded
// memory, processes and sockets, and its drops are logged twice (when they start and, with the
// count, when the queue has drained), not once per drop.

import type { Logger } from '../../engine/logger.ts';

export class TaskQueue {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private dropped = 0;

  constructor(
    /** What the tasks are, for the log ("alert hook", "alert webhook"). */
    private readonly what: string,
    private readonly log: Logger,
    private concurrency: number,
    readonly maxWaiting: number,
  ) {}

  configure(concurrency: number): void {
    this.concurrency = concurrency;
    while (this.running < this.concurrency && this.waiting.length > 0) {
      this.running++;
      this.waiting.shift()!();
    }
  }

  /** Run `task` when a slot is free; null when it was dropped (the queue is full). Never rejects: a task's failure is logged, and resolves null. */
  run<T>(task: () => Promise<T>, about: Record<string, unknown>): Promise<T | null> | null {
    if (this.running >= this.concurrency && this.waiting.length >= this.maxWaiting) {
      if (this.dropped++ === 0)
        this.log.error(
          { ...about, waiting: this.maxWaiting },
          `${this.what} dropped: ${this.maxWaiting} are already waiting (more drops are counted, not logged)`,
        );
      return null;
    }
    return this.slot()
      .then(task)
      .catch((err: unknown) => {
        this.log.error({ ...about, err: err instanceof Error ? err.message : String(err) }, `${this.what} failed unexpectedly`);
        return null;
      })
      .finally(() => this.release());
  }

  private slot(): Promise<void> {
    if (this.running < this.concurrency) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    // Over the concurrency (lowered by a reload): the slot is given up, not handed over.
    const next = this.running <= this.concurrency ? this.waiting.shift() : undefined;
    if (next) return next();
    this.running--;
    if (this.running === 0 && this.dropped > 0) {
      this.log.warn({ dropped: this.dropped }, `${this.what} queue drained: ${this.dropped} dropped while it was full`);
      this.dropped = 0;
    }
  }
}
