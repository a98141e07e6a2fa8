// What the engine does when its store says a certificate's staple changed: load it again. Stores
// say so as often as anyone publishes (a flood of 50,000 notifications for one certificate is one
// PUBLISH loop away), so the loads are coalesced per certificate: at most one load in flight and
// one pending, whatever the number of notifications; and at most `limit` loads at once across
// certificates, so that a notification for every certificate (after an outage) opens few files.

/** Loads of changed staples running at once, across certificates. */
export const STORE_CHANGE_CONCURRENCY = 16;

type State = 'queued' | 'running' | 'running-pending' | 'waiting';

export interface ChangeCounts {
  /** Loads started. */
  readonly loads: number;
  /** Notifications that added nothing (a load was already queued or pending for the certificate). */
  readonly coalesced: number;
}

export class StoreChanges<T extends object> {
  private readonly states = new Map<T, State>();
  /** Certificates waiting for a slot, in order (a Set: each at most once). */
  private readonly queue = new Set<T>();
  private running = 0;
  private loads = 0;
  private coalesced = 0;
  private closed = false;

  constructor(
    /** Load the certificate's staple from the store (never rejects). */
    private readonly load: (item: T) => Promise<void>,
    /** A fetch of this certificate in progress, if any: the load waits for it, outside the slots. */
    private readonly busy: (item: T) => Promise<void> | null,
    private readonly limit = STORE_CHANGE_CONCURRENCY,
  ) {}

  get counts(): ChangeCounts {
    return { loads: this.loads, coalesced: this.coalesced };
  }

  /** The store says `item`'s staple changed. */
  changed(item: T): void {
    if (this.closed) return;
    const state = this.states.get(item);
    if (state === 'running') {
      this.states.set(item, 'running-pending');
    } else if (state !== undefined) {
      this.coalesced++;
    } else {
      this.enqueue(item);
    }
  }

  /** Forget a certificate (removed): a load already running finishes, nothing more starts. */
  forget(item: T): void {
    this.queue.delete(item);
    if (this.states.get(item) !== 'running' && this.states.get(item) !== 'running-pending') this.states.delete(item);
    else this.states.set(item, 'running');
  }

  close(): void {
    this.closed = true;
    this.queue.clear();
  }

  private enqueue(item: T): void {
    this.states.set(item, 'queued');
    this.queue.add(item);
    this.pump();
  }

  private pump(): void {
    while (!this.closed && this.running < this.limit) {
      const item = this.queue.values().next().value;
      if (item === undefined) return;
      this.queue.delete(item);
      const busy = this.busy(item);
      if (busy) {
        // Another process saved while this one fetched: look once the fetch is done, without a slot.
        this.states.set(item, 'waiting');
        void busy.catch(() => undefined).then(() => (this.closed || this.states.get(item) !== 'waiting' ? undefined : this.enqueue(item)));
        continue;
      }
      this.start(item);
    }
  }

  private start(item: T): void {
    this.states.set(item, 'running');
    this.running++;
    this.loads++;
    void this.load(item)
      .catch(() => undefined)
      .then(() => {
        this.running--;
        const pending = this.states.get(item) === 'running-pending';
        this.states.delete(item);
        if (pending && !this.closed) this.enqueue(item);
        else this.pump();
      });
  }
}
