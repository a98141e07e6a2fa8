// The state file, written so that its cost does not grow with changes × certificates: a small
// summary (state.json: counts, the problems, the soonest to lapse) at most every
// `summaryIntervalMs` after a change, and every file's state (state.files.jsonl, one JSON line
// each) at most every `detailIntervalMs`. Each is written whole with the atomic rename; the
// pass over the files yields to the event loop every `sliceSize` files. A failed write is
// logged once, retried with a doubling delay, and logged again once it works. Timers run on the
// injected clock.

import { mkdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Clock, TimerHandle } from '../engine/clock.ts';
import type { Logger } from '../engine/logger.ts';
import { describeFsError, writeFileAtomic } from '../io/files.ts';
import type { DaemonCounters, FileState } from './state.ts';
import { detailFileName, SummaryBuilder } from './state-summary.ts';

/** What the state is made of: the counters, and each file's state (built as it is read). */
export interface StateSource {
  counters(): DaemonCounters;
  files(): Iterable<FileState>;
}

export interface StateFileOptions {
  /** Wait this long after a change before writing (changes come in bursts). */
  readonly debounceMs?: number;
  /** At most one summary per this long (or 10× the last pass's duration, if longer). */
  readonly summaryIntervalMs?: number;
  /** At most one detail file per this long (or 10× its last pass's duration, if longer). */
  readonly detailIntervalMs?: number;
  /** Files between two yields to the event loop. */
  readonly sliceSize?: number;
  /** Writes a file whole (the atomic rename); tests wrap it to count or fail writes. */
  readonly write?: (path: string, data: Uint8Array | readonly Uint8Array[]) => Promise<void>;
}

const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 5 * 60_000;

export class StateFile {
  private readonly debounceMs: number;
  private readonly summaryIntervalMs: number;
  private readonly detailIntervalMs: number;
  private readonly sliceSize: number;
  private readonly write: (path: string, data: Uint8Array | readonly Uint8Array[]) => Promise<void>;
  private timer: TimerHandle | null = null;
  private timerAt = 0;
  private stopped = false;
  private running: Promise<void> | null = null;
  private summaryDirty = false;
  private detailDirty = false;
  private changedAt = 0;
  /** When each may next be written (bounded frequency, and the retry delay after a failure). */
  private summaryNotBefore = 0;
  private detailNotBefore = 0;
  private detailUpdatedAt: string | null = null;
  /** The delay before the next retry, while writes fail (null: the last write worked). */
  private retryMs: number | null = null;

  constructor(
    private path: string,
    private readonly source: StateSource,
    private readonly clock: Clock,
    private readonly log: Logger,
    opts: StateFileOptions = {},
  ) {
    this.debounceMs = opts.debounceMs ?? 250;
    this.summaryIntervalMs = opts.summaryIntervalMs ?? 2_000;
    this.detailIntervalMs = opts.detailIntervalMs ?? 60_000;
    this.sliceSize = opts.sliceSize ?? 500;
    this.write = opts.write ?? ((path, data) => writeFileAtomic(path, data, { mode: 0o644 }));
  }

  get detailPath(): string {
    return join(dirname(this.path), detailFileName(basename(this.path)));
  }

  moveTo(path: string): void {
    if (path === this.path) return;
    this.path = path;
    this.detailUpdatedAt = null;
    this.schedule();
  }

  /** Something changed: the summary and the detail are written when each is next allowed. */
  schedule(): void {
    if (!this.summaryDirty && !this.detailDirty) this.changedAt = this.clock.now();
    this.summaryDirty = this.detailDirty = true;
    this.arm();
  }

  private arm(): void {
    if (this.running || this.stopped || (!this.summaryDirty && !this.detailDirty)) return;
    const soonest = this.changedAt + this.debounceMs;
    const summaryAt = this.summaryDirty ? Math.max(soonest, this.summaryNotBefore) : Infinity;
    const detailAt = this.detailDirty ? Math.max(soonest, this.detailNotBefore) : Infinity;
    const at = Math.min(summaryAt, detailAt);
    // A timer set for the detail alone is brought forward when the summary is due sooner.
    if (this.timer && this.timerAt <= at) return;
    this.timer?.cancel();
    this.timerAt = at;
    this.timer = this.clock.at(at, () => {
      this.timer = null;
      if (this.running || this.stopped) return;
      void this.pass(this.clock.now() >= this.detailNotBefore);
    });
  }

  /** Write the summary and the detail now (at stop, and for tests), after any pass under way. */
  async save(): Promise<void> {
    while (this.running) await this.running;
    this.timer?.cancel();
    this.timer = null;
    this.summaryDirty = this.detailDirty = true;
    await this.pass(true);
  }

  private pass(withDetail: boolean): Promise<void> {
    this.running = this.run(withDetail).finally(() => {
      this.running = null;
      this.arm();
    });
    return this.running;
  }

  private async run(withDetail: boolean): Promise<void> {
    const started = this.clock.now();
    // Changes from here on need another pass: the flags are cleared before the files are read.
    this.summaryDirty = false;
    if (withDetail) this.detailDirty = false;
    const counters = this.source.counters();
    const builder = new SummaryBuilder();
    const lines: Buffer[] = [];
    const slice: string[] = [];
    if (withDetail) lines.push(Buffer.from(`${JSON.stringify(counters)}\n`));
    let n = 0;
    for (const f of this.source.files()) {
      builder.add(f);
      if (withDetail) slice.push(JSON.stringify(f));
      if (++n % this.sliceSize === 0) {
        if (withDetail) lines.push(Buffer.from(`${slice.splice(0).join('\n')}\n`));
        await nextTurn();
      }
    }
    if (withDetail && slice.length) lines.push(Buffer.from(`${slice.join('\n')}\n`));
    const path = this.path;
    const detailPath = this.detailPath;
    let failed: { file: string; err: unknown } | null = null;
    if (withDetail) {
      try {
        await mkdir(dirname(detailPath), { recursive: true });
        await this.write(detailPath, lines);
        this.detailUpdatedAt = counters.updatedAt;
      } catch (err) {
        failed = { file: detailPath, err };
        this.detailDirty = true;
      }
    }
    const summary = builder.finish(counters, { file: basename(detailPath), updatedAt: this.detailUpdatedAt });
    try {
      await mkdir(dirname(path), { recursive: true });
      await this.write(path, Buffer.from(`${JSON.stringify(summary, null, 1)}\n`));
    } catch (err) {
      failed ??= { file: path, err };
      this.summaryDirty = true;
    }
    const took = this.clock.now() - started;
    this.summaryNotBefore = this.clock.now() + Math.max(this.summaryIntervalMs, 10 * took);
    if (withDetail) this.detailNotBefore = this.clock.now() + Math.max(this.detailIntervalMs, 10 * took);
    this.afterWrite(failed);
  }

  /** Log a failure once when it starts and once when it ends; while it lasts, retry with a doubling delay. */
  private afterWrite(failed: { file: string; err: unknown } | null): void {
    if (!failed) {
      if (this.retryMs !== null) this.log.info({ file: this.path }, 'the state file is written again');
      this.retryMs = null;
      return;
    }
    if (this.retryMs === null) this.log.warn({ file: failed.file, err: describeFsError(failed.err) }, 'cannot write the state file: retrying');
    this.retryMs = this.retryMs === null ? RETRY_FIRST_MS : Math.min(RETRY_MAX_MS, this.retryMs * 2);
    const retryAt = this.clock.now() + this.retryMs;
    this.summaryNotBefore = Math.max(this.summaryNotBefore, retryAt);
    this.detailNotBefore = Math.max(this.detailNotBefore, retryAt);
  }

  /** Resolves once no pass is under way (a pass a timer started runs on its own). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** No more scheduled writes (a last save() still writes). */
  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
  }
}
