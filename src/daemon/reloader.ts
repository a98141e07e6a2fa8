// The reload command (e.g. "nginx -s reload"): debounced, so that many staple changes cause one
// reload; a failed run is counted apart and retried with a doubling delay, so that the server
// does not keep a file set it has not seen.

import { execFile } from 'node:child_process';
import type { Logger } from '../engine/logger.ts';

export interface ReloadSettings {
  readonly command: string;
  readonly debounceMs: number;
}

/** The longest wait between retries of a failing reload command. */
export const RELOAD_RETRY_MAX_MS = 10 * 60_000;
const RELOAD_RETRY_INITIAL_MS = 1_000;
const RELOAD_TIMEOUT_MS = 60_000;

export class Reloader {
  /** Runs that succeeded, and runs that failed. */
  succeeded = 0;
  failed = 0;
  private consecutiveFailures = 0;
  private timer: NodeJS.Timeout | null = null;
  private pending: { readonly promise: Promise<void>; readonly resolve: () => void } | null = null;
  private stopped = false;

  constructor(
    private settings: ReloadSettings | null,
    private readonly log: Logger,
  ) {}

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
    if (this.timer) clearTimeout(this.timer);
    const delay = delayMs ?? this.settings.debounceMs;
    this.log.debug({ command: this.settings.command, inMs: delay }, 'reload scheduled');
    this.timer = setTimeout(() => void this.run(), delay);
  }

  /** Resolves once the reload that is due (if any) has run. */
  settled(): Promise<void> {
    return this.pending?.promise ?? Promise.resolve();
  }

  /** Run a reload that is due now rather than drop it (at stop: the server should see the last files). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) {
      clearTimeout(this.timer);
      await this.run();
    }
  }

  private async run(): Promise<void> {
    this.timer = null;
    const pending = this.pending;
    const settings = this.settings;
    this.pending = null;
    if (!pending || !settings) return pending?.resolve();
    await new Promise<void>((resolve) => {
      execFile('/bin/sh', ['-c', settings.command], { timeout: RELOAD_TIMEOUT_MS, maxBuffer: 64 * 1024 }, (err, stdout, stderr) => {
        if (err) {
          this.failed++;
          this.consecutiveFailures++;
          const retryMs = Math.min(Math.max(settings.debounceMs, RELOAD_RETRY_INITIAL_MS) * 2 ** (this.consecutiveFailures - 1), RELOAD_RETRY_MAX_MS);
          this.log.error(
            { command: settings.command, stderr: String(stderr).trim(), failures: this.consecutiveFailures, retryInMs: this.stopped ? null : retryMs },
            `reload command failed: ${err.message.split('\n')[0]}${this.stopped ? '' : `; retrying in ${retryMs} ms`}`,
          );
          if (!this.stopped) this.schedule(retryMs);
          resolve();
        } else {
          this.succeeded++;
          this.consecutiveFailures = 0;
          this.log.info({ command: settings.command, output: `${String(stdout)}${String(stderr)}`.trim() }, 'reload command ran');
          resolve();
        }
      });
    });
    // Waiters learn that this run happened, whatever its result (a retry is a new reload).
    pending.resolve();
  }
}
