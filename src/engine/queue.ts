// Bounded concurrency for fetches, Must-Staple certificates first: a server with 10,000
// certificates neither floods its responders nor starves its event loop.

interface Job {
  readonly urgent: boolean;
  readonly start: () => void;
}

export class FetchQueue {
  private running = 0;
  private readonly urgent: Job[] = [];
  private readonly normal: Job[] = [];

  constructor(private limit: number) {}

  /** A new limit: running tasks finish; a higher one starts queued tasks at once. */
  setLimit(limit: number): void {
    this.limit = limit;
    this.next();
  }

  get pending(): number {
    return this.urgent.length + this.normal.length;
  }

  get active(): number {
    return this.running;
  }

  /** Run `task` when a slot is free; urgent tasks go before the rest. */
  run<T>(urgent: boolean, task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const job: Job = {
        urgent,
        start: () => {
          this.running++;
          task()
            .then(resolve, reject)
            .finally(() => {
              this.running--;
              this.next();
            });
        },
      };
      (urgent ? this.urgent : this.normal).push(job);
      this.next();
    });
  }

  private next(): void {
    while (this.running < this.limit) {
      const job = this.urgent.shift() ?? this.normal.shift();
      if (!job) return;
      job.start();
    }
  }
}
