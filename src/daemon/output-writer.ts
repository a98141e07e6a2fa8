// The daemon's output writer: makes each certificate file's outputs say what the engine says,
// the staple file, the nginx include, a push to HAProxy and the reload command, and keeps
// whether each last worked. A failed write is retried with backoff (the engine's state is read
// again at each try) and logged once when it fails and once when it works again. A push HAProxy
// refused is retried too (with the same backoff), and any later push that works (a retry, or one
// after a reload) clears the push's failure. Before each reload command, an include that says
// "on" while its staple file cannot be read goes off (outputs.ts: includeOnlyIfReadable).

import type { Clock, TimerHandle } from '../engine/clock.ts';
import { BackoffTimers } from './backoff-timers.ts';
import type { StaplingEngine } from '../engine/engine.ts';
import type { Logger } from '../engine/logger.ts';
import type { DaemonConfig } from './config.ts';
import { processFdReserve, type FdReserve } from './fd-reserve.ts';
import { FILE_HANDOFF_MS } from './handoff.ts';
import { haproxyWouldIgnore, pushOcspResponse, pushStaple } from './haproxy.ts';
import { describeError } from './inputs.ts';
import { OutputHealthBook, type OutputHealth } from './output-health.ts';
import { includeOnlyIfReadable, OutputWriteError, writeOutputs, type WatchedFile } from './outputs.ts';
import type { Reloader } from './reloader.ts';

export { OUTPUT_RETRY_INITIAL_MS, OUTPUT_RETRY_MAX_MS } from './backoff-timers.ts';
/**
 * A server that reads a staple file keeps stapling what it read until it reloads, so a staple file
 * is withdrawn this long (plus the reload's debounce) before the staple lapses: the reload lands
 * before nextUpdate, and no handshake gets an expired staple (the hand-off rule: src/daemon/handoff.ts).
 */
export const FILE_WITHDRAW_LEAD_MS = FILE_HANDOFF_MS;

/**
 * After a reload command the daemon ran, the staples are pushed to HAProxy again at these delays:
 * its USR2 returns before the new worker is up, so a push made meanwhile can land on the old
 * worker and be lost while the new one keeps the older file it read. Bounded: three pushes.
 */
export const REPUSH_AFTER_RELOAD_MS = [1_000, 3_000, 10_000] as const;

export class OutputWriter {
  private readonly books = new Map<WatchedFile, OutputHealthBook>();
  private readonly retries: BackoffTimers<WatchedFile>;
  /** Per file, the retry of a push HAProxy refused (or could not take: its socket down while it starts). */
  private readonly pushRetries: BackoffTimers<WatchedFile>;
  /** Per file, the timer that withdraws its staple before it lapses. */
  private readonly withdrawals = new Map<WatchedFile, TimerHandle>();
  private stopped = false;
  private repushes: TimerHandle[] = [];

  constructor(
    private config: DaemonConfig,
    private readonly engine: StaplingEngine,
    private readonly reloader: Reloader,
    private readonly clock: Clock,
    private readonly log: Logger,
    /** Something a status reader shows changed. */
    private readonly changed: () => void,
    /** Descriptors kept for withdrawals (fd-reserve.ts). */
    private readonly reserve: FdReserve = processFdReserve,
  ) {
    reserve.take();
    this.retries = new BackoffTimers(clock);
    this.pushRetries = new BackoffTimers(clock);
    reloader.beforeCommand = () => this.includesReadable();
  }

  configure(config: DaemonConfig): void {
    this.config = config;
    if (!config.haproxy) for (const b of this.books.values()) b.drop('haproxy-push');
  }

  /**
   * Make the file's outputs match the engine: the staple, or no file at all. Serialised per
   * file: two interleaved syncs (an expiry and a new staple) could otherwise leave an include
   * that says "on" beside a removed staple file.
   */
  sync(f: WatchedFile): Promise<void> {
    return this.serially(f, () => this.syncNow(f));
  }

  /** Run a job on the file's outputs after the ones before it (a push again never overtakes a newer staple's). */
  private serially(f: WatchedFile, job: () => Promise<void>): Promise<void> {
    f.syncing = f.syncing.then(job).catch((err: unknown) => this.log.error({ file: f.path }, `cannot update the outputs: ${describeError(err)}`));
    return f.syncing;
  }

  /** Resolves once the files' syncs under way, and any queued while they ran, have ended. */
  async settled(files: () => Iterable<WatchedFile>): Promise<void> {
    for (;;) {
      const pending = new Set([...files()].map((f) => f.syncing));
      await Promise.all(pending);
      if ([...files()].every((f) => pending.has(f.syncing))) return;
    }
  }

  /** Each output of this file: whether its last write worked, its error, since when (the reload command's too). */
  health(f: WatchedFile): readonly OutputHealth[] {
    const own = this.books.get(f)?.list() ?? [];
    const reload = this.reloader.health();
    return reload ? [...own, reload] : own;
  }

  /** The file is forgotten: no retry, no health kept. */
  forget(f: WatchedFile): void {
    this.retries.cancel(f);
    this.pushRetries.cancel(f);
    this.withdrawals.get(f)?.cancel();
    this.withdrawals.delete(f);
    this.books.delete(f);
  }

  /** The reload command ran: push every staple again on the bounded schedule (a later reload restarts it). */
  afterReload(): void {
    for (const t of this.repushes) t.cancel();
    this.repushes = [];
    if (!this.config.haproxy || this.stopped) return;
    this.repushes = REPUSH_AFTER_RELOAD_MS.map((delay) => this.clock.at(this.clock.now() + delay, () => void this.repushAll()));
  }

  /** Before a reload: each include "on" naming a staple file that cannot be read goes off (nginx would refuse the whole reload), and is retried. */
  private async includesReadable(): Promise<void> {
    const check = async (f: WatchedFile): Promise<void> => {
      const problem = await includeOnlyIfReadable(f, this.reserve).catch((err: unknown) => {
        if (err instanceof OutputWriteError) return err;
        throw err;
      });
      if (!problem) return;
      this.book(f).failed(
        problem.kind,
        problem.target,
        `${problem.message}${f.include === 'off' ? '; its nginx include is off until the file is there again' : ''}`,
      );
      this.retryLater(f);
      this.changed();
    };
    await Promise.all([...this.books.keys()].map((f) => this.serially(f, () => check(f))));
  }

  private async repushAll(): Promise<void> {
    for (const f of [...this.books.keys()]) await this.serially(f, () => this.pushAgain(f, 'after the reload'));
  }

  /**
   * Push the staple file's bytes again: after a reload, or as the retry of a refused push. One
   * that works clears the push's failure; one refused is quiet (the push after the change was
   * logged; a worker still starting refuses, and the next try comes), and a retry is rescheduled.
   */
  private async pushAgain(f: WatchedFile, why: 'after the reload' | 'as a retry'): Promise<void> {
    const haproxy = this.config.haproxy;
    const book = this.books.get(f);
    // Nothing HAProxy would take (the staple withdrawn, or too short-lived): no retry either.
    const nextUpdate = f.certId ? (this.engine.statusById(f.certId)?.nextUpdate ?? null) : null;
    if (!haproxy || this.stopped || !book || !f.written || haproxyWouldIgnore(nextUpdate, this.clock.now())) return this.pushRetries.cancel(f);
    try {
      await pushOcspResponse(haproxy.socket, f.written, haproxy.timeoutMs);
    } catch (err) {
      this.log.debug({ file: f.path, err: describeError(err) }, `staple not pushed to HAProxy ${why}`);
      if (why === 'as a retry') this.retryPushLater(f);
      return;
    }
    this.log.debug({ file: f.path, socket: haproxy.socket }, `staple pushed to HAProxy ${why}`);
    this.pushRetries.cancel(f);
    book.ok('haproxy-push', haproxy.socket);
    this.changed();
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.repushes) t.cancel();
    this.retries.clear();
    this.pushRetries.clear();
    for (const t of this.withdrawals.values()) t.cancel();
    this.withdrawals.clear();
  }

  private book(f: WatchedFile): OutputHealthBook {
    let b = this.books.get(f);
    if (!b) this.books.set(f, (b = new OutputHealthBook(this.log, () => this.clock.now(), f.path)));
    return b;
  }

  private async syncNow(f: WatchedFile): Promise<void> {
    if (this.stopped || f.refused) return;
    const lead = this.withdrawLeadMs();
    const staple = f.certId ? this.engine.stapleById(f.certId, lead) : null;
    const status = f.certId ? this.engine.statusById(f.certId) : null;
    // No staple file (`stapleFile: false`): nothing to write, withdraw or reload; the engine serves the responder.
    this.armWithdrawal(f, staple && f.stapleFile ? (status?.validUntil ?? null) : null, lead);
    const book = this.book(f);
    let change;
    const includeBefore = f.include;
    try {
      change = await writeOutputs(f, staple, status?.state === 'no-responder', this.log, this.reserve);
    } catch (err) {
      if (!(err instanceof OutputWriteError)) throw err;
      book.failed(err.kind, err.target, err.message);
      this.noteWritten(f, staple, status?.validUntil ?? null);
      // The include was turned off but the staple file could not go (its folder broken), or the
      // older staple the file still holds is withdrawn: nginx must reload to drop what it holds.
      if ((includeBefore !== null && f.include !== includeBefore) || (await this.withdrawOlder(f, lead))) this.reloader.schedule();
      this.retryLater(f);
      this.changed();
      return;
    }
    this.noteWritten(f, staple, status?.validUntil ?? null);
    if (f.stapleFile) book.ok('staple-file', f.stapleFile);
    if (f.includeFile) book.ok('nginx-include', f.includeFile);
    this.retries.cancel(f);
    if (!change) return;
    const { stapleCurrent, removed, includeChanged } = change;
    if (stapleCurrent && !removed && !includeChanged) return;
    // HAProxy takes a new staple through its runtime API with no reload. It reads the files
    // only when it (re)loads, so a removal, or a push it refuses (a certificate it loaded
    // without a staple file, or a renewal it has not loaded yet), needs the reload command.
    const pushed = staple && !stapleCurrent ? await this.push(f, staple, status?.nextUpdate ?? null, book) : false;
    if (!pushed && (removed || includeChanged || (staple && !stapleCurrent))) this.reloader.schedule();
    this.changed();
  }

  private async push(f: WatchedFile, staple: Buffer, nextUpdate: number | null, book: OutputHealthBook): Promise<boolean> {
    const { haproxy } = this.config;
    if (!haproxy) return false;
    // A new staple: its own push, and its own retries.
    this.pushRetries.cancel(f);
    const ignored = haproxyWouldIgnore(nextUpdate, this.clock.now());
    if (ignored) {
      book.failed('haproxy-push', haproxy.socket, ignored);
      return false;
    }
    try {
      await pushStaple(haproxy, staple, f, this.log);
      book.ok('haproxy-push', haproxy.socket);
      return true;
    } catch (err) {
      book.failed('haproxy-push', haproxy.socket, `${describeError(err)}${this.config.reload ? '; running the reload command instead' : ''}`);
      this.retryPushLater(f);
      return false;
    }
  }

  /** How long before a staple lapses its file is withdrawn: the reload's debounce and the time a reload takes. */
  private withdrawLeadMs(): number {
    return (this.config.reload?.debounceMs ?? 0) + FILE_WITHDRAW_LEAD_MS;
  }

  /** Sync the file again when its staple is due to be withdrawn (a newer staple re-arms it first). */
  private armWithdrawal(f: WatchedFile, validUntil: number | null, lead: number): void {
    this.withdrawals.get(f)?.cancel();
    this.withdrawals.delete(f);
    if (validUntil === null || this.stopped) return;
    this.withdrawals.set(
      f,
      this.clock.at(validUntil - lead, () => {
        this.withdrawals.delete(f);
        void this.sync(f);
      }),
    );
  }

  /**
   * Until when the staple the file holds is valid: a newer one not written leaves the older one
   * there. One found there at start, not the engine's, is judged as a fetched one is (refused: lapsed).
   */
  private noteWritten(f: WatchedFile, staple: Buffer | null, validUntil: number | null): void {
    if (f.written === null) f.writtenUntil = null;
    else if (staple?.equals(f.written)) f.writtenUntil = validUntil;
    else if (f.writtenUntil === null) f.writtenUntil = (f.certId ? this.engine.validUntilById(f.certId, f.written) : null) ?? this.clock.now();
  }

  /**
   * A newer staple could not be written (a full disk, fd pressure): the older one the file still
   * holds is withdrawn at its own lapse, as if no staple were held. True when a server must reload.
   */
  private async withdrawOlder(f: WatchedFile, lead: number): Promise<boolean> {
    const until = f.written ? f.writtenUntil : null;
    if (until === null) return false;
    if (this.clock.now() < until - lead) {
      this.armWithdrawal(f, until, lead);
      return false;
    }
    const include = f.include;
    const removed = await writeOutputs(f, null, false, this.log, this.reserve).then(
      (c) => c?.removed ?? false,
      () => false,
    );
    return removed || f.include !== include;
  }

  /** Try the file's outputs again (1 s, then every 2 s: backoff-timers.ts). */
  private retryLater(f: WatchedFile): void {
    if (!this.stopped) this.retries.schedule(f, () => void this.sync(f));
  }

  /**
   * Push the file's staple again after 1 s, then every 2 s (one pending per file),
   * until a push works, a newer staple is pushed, or the staple is withdrawn.
   */
  private retryPushLater(f: WatchedFile): void {
    if (!this.stopped) this.pushRetries.schedule(f, () => void this.serially(f, () => this.pushAgain(f, 'as a retry')));
  }
}
