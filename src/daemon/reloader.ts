// The reload command (e.g. "nginx -s reload"): debounced, so that many staple changes cause one
// reload; a failed run is counted apart and retried with a doubling delay, so that the server
// does not keep a file set it has not seen. Its spawn runs on the descriptor reserve
// (fd-reserve.ts): the reload that withdraws a lapsing staple must run under fd pressure too.

import { execFile } from 'node:child_process';
import { systemClock, type Clock, type TimerHandle } from '../engine/clock.ts';
import type { Logger } from '../engine/logger.ts';
import { FD_NEEDS, processFdReserve, type FdReserve } from './fd-reserve.ts';
import type { OutputHealth } from './output-health.ts';

export interface ReloadSettings {
  readonly command: string;
  readonly debounceMs: number;
}

/** The longest wait between retries of a failing reload command. */
export const RELOAD_RETRY_MAX_MS = 10 * 60_000;
const RELOAD_RETRY_INITIAL_MS = 1_000;
const RELOAD_TIMEOUT_MS = 60_000;
/** How long the reload waits for the look at the certificate files before it runs anyway. */
export const RELOAD_RESCAN_WAIT_MS = 5_000;

export class Reloader {
  /** Runs that succeeded, and runs that failed. */
  succeeded = 0;
  failed = 0;
  private consecutiveFailures = 0;
  private timer: TimerHandle | null = null;
  /** Whether the last run worked, and since when (null: never ran). */
  private last: { ok: boolean; error: string | null; since: number } | null = null;
  private pending: { readonly promise: Promise<void>; readonly resolve: () => void } | null = null;
  /** The last run's promise: resolved once it has run (a look and a command can take seconds). */
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  /** Called after each run that succeeded (the output writer pushes to HAProxy's new worker again). */
  onReloaded: () => void = () => undefined;
  /** Run after the look at the files, just before the command (the output writer turns off includes naming unreadable files). */
  beforeCommand: () => Promise<void> = () => Promise.resolve();

  constructor(
    private settings: ReloadSettings | null,
    private readonly log: Logger,
    private readonly clock: Clock = systemClock,
    /**
     * Run just before the command: the daemon looks at its certificate files, so that a
     * certificate renewed since the last rescan has its old staple withdrawn first, and the
     * server never loads the new certificate with the old staple.
     */
    private readonly beforeRun: () => Promise<void> = () => Promise.resolve(),
    private readonly reserve: FdReserve = processFdReserve,
  ) {
    reserve.take();
  }

  /** The reload command as an output: whether its last run worked (null: none configured, or not run yet). */
  health(): OutputHealth | null {
    if (!this.settings || !this.last) return null;
    return { kind: 'reload-command', target: this.settings.command, ...this.last };
  }

  configure(settings: ReloadSettings | null): void {
    this.settings = settings;
  }

  /** A reload is needed: run it after the debounce delay (restarted by each further change). */
  schedule(delayMs?: number): void {
    if (!this.settings || this.stopped) return;
    if (!this.pending) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.pending = { promise, resolve };
    }
    this.timer?.cancel();
    const delay = delayMs ?? this.settings.debounceMs;
    this.log.debug({ command: this.settings.command, inMs: delay }, 'reload scheduled');
    // Kept alive: a reload that is due must run even when nothing else is pending.
    this.timer = this.clock.at(this.clock.now() + delay, () => void this.run(), true);
  }

  /** Resolves once the reload that is due (if any), or the one running now, has run. */
  settled(): Promise<void> {
    return this.pending?.promise ?? this.running;
  }

  /** Run a reload that is due now rather than drop it (at stop: the server should see the last files). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) {
      this.timer.cancel();
      await this.run();
    }
  }

  private async run(): Promise<void> {
    this.timer = null;
    const pending = this.pending;
    const settings = this.settings;
    this.pending = null;
    if (!pending || !settings) return pending?.resolve();
    this.running = pending.promise;
    if (!this.stopped) await this.lookFirst(this.beforeRun);
    await this.lookFirst(this.beforeCommand);
    await this.reserve
      .withRoom(() => runCommand(settings.command), FD_NEEDS.spawn)
      .then(
        ({ stdout, stderr }) => {
          this.succeeded++;
          this.consecutiveFailures = 0;
          if (!this.last?.ok) this.last = { ok: true, error: null, since: this.clock.now() };
          this.log.info({ command: settings.command, output: `${stdout}${stderr}`.trim() }, 'reload command ran');
          this.onReloaded();
        },
        (err: CommandError) => {
          const { stderr } = err;
          this.failed++;
          this.consecutiveFailures++;
          const error = err.message.split('\n')[0] ?? 'failed';
          if (this.last?.ok !== false) this.last = { ok: false, error, since: this.clock.now() };
          const retryMs = Math.min(Math.max(settings.debounceMs, RELOAD_RETRY_INITIAL_MS) * 2 ** (this.consecutiveFailures - 1), RELOAD_RETRY_MAX_MS);
          this.log.error(
            { command: settings.command, stderr: String(stderr).trim(), failures: this.consecutiveFailures, retryInMs: this.stopped ? null : retryMs },
            `reload command failed: ${err.message.split('\n')[0]}${this.stopped ? '' : `; retrying in ${retryMs} ms`}`,
          );
          if (!this.stopped) this.schedule(retryMs);
        },
      );
    // Waiters learn that this run happened, whatever its result (a retry is a new reload).
    pending.resolve();
  }

  /** A look before the command, bounded in time (a hung file system must not hold the reload back) and never throwing. */
  private async lookFirst(look: () => Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, RELOAD_RESCAN_WAIT_MS)));
    await Promise.race([look().catch(() => undefined), waited]);
    clearTimeout(timer);
  }
}

type CommandError = Error & { readonly code?: unknown; readonly stderr: string };

/** Run the command through /bin/sh; rejects with its error (`code` EMFILE when it could not be spawned) and its stderr. */
function runCommand(command: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) =>
    execFile('/bin/sh', ['-c', command], { timeout: RELOAD_TIMEOUT_MS, maxBuffer: 64 * 1024 }, (err, stdout, stderr) =>
      err ? reject(Object.assign(err as Error, { stderr: String(stderr) })) : resolve({ stdout: String(stdout), stderr: String(stderr) }),
    ),
  );
}
