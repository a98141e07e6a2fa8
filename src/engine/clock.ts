// The engine's notion of time, injected so that every time-dependent behaviour is tested on a
// fake clock. Timers are unref'd unless asked otherwise: a pending refresh never keeps a process
// alive by itself, but a wait that someone awaits (ready()'s deadline) must, or Node exits with
// the await unsettled.

/** A timer set on a Clock. */
export interface TimerHandle {
  cancel(): void;
}

/** A time source with timers, injected so that time can be faked in tests. */
export interface Clock {
  now(): number;
  /** Run `fn` at (or soon after) epoch-ms `at`. `keepAlive`: the timer keeps the process alive until then. */
  at(at: number, fn: () => void, keepAlive?: boolean): TimerHandle;
}

/** Node's setTimeout caps delays at 2^31-1 ms (~24.8 days); longer waits are re-armed. */
const MAX_DELAY = 2 ** 31 - 1;

class Entry implements TimerHandle {
  cancelled = false;
  constructor(
    readonly at: number,
    readonly seq: number,
    readonly fn: () => void,
    private readonly queue: TimerQueue,
  ) {}

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.queue.cancelled();
  }
}

/**
 * Every background timer of the process in one min-heap behind one Node timer. An engine with
 * 10,000 certificates keeps two timers each; as Node timers they cost about 500 bytes apiece,
 * as heap entries about a fifth of that. Cancelled entries are dropped when they surface, or in
 * a compaction once they outnumber the live ones.
 */
class TimerQueue {
  private heap: Entry[] = [];
  private seq = 0;
  private cancelledGuess = 0;
  private timer: NodeJS.Timeout | null = null;
  private armedFor = Infinity;

  add(at: number, fn: () => void): TimerHandle {
    const entry = new Entry(at, this.seq++, fn, this);
    this.push(entry);
    if (at < this.armedFor) this.arm();
    return entry;
  }

  cancelled(): void {
    if (++this.cancelledGuess > 64 && this.cancelledGuess > this.heap.length / 2) this.compact();
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.armedFor = Infinity;
    while (this.heap[0]?.cancelled) this.pop();
    const first = this.heap[0];
    if (!first) return;
    this.armedFor = first.at;
    this.timer = setTimeout(() => this.run(), Math.min(Math.max(0, first.at - Date.now()), MAX_DELAY));
    this.timer.unref();
  }

  private run(): void {
    this.timer = null;
    this.armedFor = Infinity;
    const now = Date.now();
    const due: Entry[] = [];
    while (this.heap.length > 0 && this.heap[0]!.at <= now) {
      const entry = this.pop()!;
      if (!entry.cancelled) due.push(entry);
    }
    this.arm();
    for (const entry of due) {
      // A callback that throws must not stop the others, nor the queue.
      try {
        entry.fn();
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  private compact(): void {
    this.heap = this.heap.filter((e) => !e.cancelled);
    this.heap.sort(before);
    this.cancelledGuess = 0;
  }

  private push(entry: Entry): void {
    const h = this.heap;
    h.push(entry);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (before(h[parent]!, h[i]!) <= 0) break;
      [h[parent], h[i]] = [h[i]!, h[parent]!];
      i = parent;
    }
  }

  private pop(): Entry | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!) < 0) m = l;
        if (r < h.length && before(h[r]!, h[m]!) < 0) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i]!, h[m]!];
        i = m;
      }
    }
    if (top?.cancelled) this.cancelledGuess = Math.max(0, this.cancelledGuess - 1);
    return top;
  }
}

function before(a: Entry, b: Entry): number {
  return a.at - b.at || a.seq - b.seq;
}

const background = new TimerQueue();

export const systemClock: Clock = {
  now: () => Date.now(),
  at(at, fn, keepAlive = false) {
    if (!keepAlive) return background.add(at, fn);
    // Rare (someone awaits it): a Node timer of its own, which keeps the process alive.
    let timer: NodeJS.Timeout;
    const arm = (): void => {
      const delay = Math.max(0, at - Date.now());
      timer = setTimeout(delay > MAX_DELAY ? arm : fn, Math.min(delay, MAX_DELAY));
    };
    arm();
    return { cancel: () => clearTimeout(timer) };
  },
};
