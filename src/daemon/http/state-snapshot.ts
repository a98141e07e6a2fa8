// Every file's state for the HTTP views (/healthz, /status, /status.json). At 100,000 files one
// build is about a second of work, so it is built in slices that yield to the event loop (an
// OCSP request or a handshake never waits behind it), shared by the requests that arrive while
// it is built, and reused while younger than 10× its build time (at most MAX_REUSE_MS): a poller,
// or many at once, cannot keep a core busy rebuilding it. With a few files a build takes well
// under a millisecond, so each request sees the state of its own moment.

import { setImmediate as nextTurn } from 'node:timers/promises';
import type { DaemonCounters, DaemonState, FileState } from '../state.ts';

export interface SnapshotSource {
  counters(): DaemonCounters;
  fileStates(): Iterable<FileState>;
}

/** The oldest a reused snapshot can be, however slow its build was. */
export const MAX_REUSE_MS = 10_000;

export class StateSnapshot {
  private building: Promise<DaemonState> | null = null;
  private last: { readonly state: DaemonState; readonly until: number } | null = null;
  private dropTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly source: SnapshotSource,
    private readonly now: () => number,
    private readonly sliceSize = 500,
  ) {}

  /** The current snapshot: a fresh one, or the last while it may be reused. */
  get(): Promise<DaemonState> {
    if (this.last && this.now() < this.last.until) return Promise.resolve(this.last.state);
    this.building ??= this.build().finally(() => (this.building = null));
    return this.building;
  }

  private async build(): Promise<DaemonState> {
    const started = this.now();
    const counters = this.source.counters();
    const files: FileState[] = [];
    for (const f of this.source.fileStates()) {
      files.push(f);
      if (files.length % this.sliceSize === 0) await nextTurn();
    }
    const state: DaemonState = { ...counters, files };
    const ended = this.now();
    const reuseMs = Math.min(MAX_REUSE_MS, 10 * (ended - started));
    if (this.dropTimer) clearTimeout(this.dropTimer);
    this.last = this.dropTimer = null;
    if (reuseMs > 0) {
      this.last = { state, until: ended + reuseMs };
      // Its memory (about 1 KB per file) is not kept past its use.
      this.dropTimer = setTimeout(() => (this.last = this.dropTimer = null), reuseMs).unref();
    }
    return state;
  }
}
