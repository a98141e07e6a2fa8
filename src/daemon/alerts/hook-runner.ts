// Runs alert hooks: execFile (argv, no shell), details in the environment and as arguments, a
// bounded run time (SIGKILL after the timeout), bounded concurrency and queue, and the output
// captured (truncated) to the log. A hook that fails is logged; nothing it does reaches the daemon.

import { execFile, type ExecFileException } from 'node:child_process';
import type { Logger } from '../../engine/logger.ts';
import { printable } from '../../ocsp/printable.ts';
import type { AlertDetails } from './alert.ts';
import { TaskQueue } from './task-queue.ts';

/** Hooks waiting for a slot beyond this are dropped (and logged): an alert storm cannot grow memory. */
export const MAX_QUEUED_HOOKS = 256;
/** Output kept from a hook, per stream (the rest is cut; the log says so). */
export const HOOK_OUTPUT_LOG_BYTES = 2_048;
/** Output read from a hook before it is killed. */
const HOOK_OUTPUT_MAX_BYTES = 256 * 1024;

export interface HookResult {
  readonly argv: readonly string[];
  readonly code: number | null;
  readonly signal: string | null;
  readonly timedOut: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment variables a hook gets for an alert (on top of the daemon's own). */
export function hookEnvironment(a: AlertDetails): Record<string, string> {
  return {
    STAPLER_EVENT: a.event,
    STAPLER_CERT: a.cert,
    STAPLER_SUBJECT: a.subject,
    STAPLER_SERIAL: a.serial,
    STAPLER_STATE: a.state,
    STAPLER_CERT_STATUS: a.certStatus ?? '',
    STAPLER_MUST_STAPLE: String(a.mustStaple),
    STAPLER_THIS_UPDATE: a.thisUpdate ?? '',
    STAPLER_NEXT_UPDATE: a.nextUpdate ?? '',
    STAPLER_VALID_UNTIL: a.validUntil ?? '',
    STAPLER_NEXT_REFRESH: a.nextRefreshAt ?? '',
    STAPLER_LAST_ERROR: a.lastError ?? '',
    STAPLER_FAILURES: String(a.consecutiveFailures),
    STAPLER_TIME: a.time,
  };
}

export class HookRunner {
  private readonly queue: TaskQueue;
  private readonly inflight = new Set<Promise<HookResult | null>>();

  constructor(
    private readonly log: Logger,
    private limits: { timeoutMs: number; concurrency: number },
  ) {
    this.queue = new TaskQueue('alert hook', log, limits.concurrency, MAX_QUEUED_HOOKS);
  }

  configure(limits: { timeoutMs: number; concurrency: number }): void {
    this.limits = limits;
    this.queue.configure(limits.concurrency);
  }

  /** Run `argv` for an alert; resolves when it has run (or been dropped, or could not start: null). Never rejects. */
  run(argv: readonly string[], alert: AlertDetails): Promise<HookResult | null> {
    const p = this.queue.run(() => this.exec(argv, alert), { event: alert.event, cert: alert.cert, hook: argv[0] });
    if (!p) return Promise.resolve(null);
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
    return p;
  }

  /** Resolves when every hook started or queued so far has finished. */
  async settled(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  private exec(argv: readonly string[], alert: AlertDetails): Promise<HookResult | null> {
    const [program, ...args] = argv;
    const fullArgs = [...args, alert.event, alert.cert];
    const fields = { event: alert.event, cert: alert.cert, hook: program };
    return new Promise((resolve) => {
      try {
        execFile(
          program!,
          fullArgs,
          {
            env: { ...process.env, ...hookEnvironment(alert) },
            timeout: this.limits.timeoutMs,
            killSignal: 'SIGKILL',
            maxBuffer: HOOK_OUTPUT_MAX_BYTES,
            windowsHide: true,
          },
          (err, stdout, stderr) => resolve(this.finished(program!, fullArgs, fields, err, stdout, stderr)),
        ).stdin?.end();
      } catch (err) {
        // execFile throws at once for arguments it refuses (a NUL byte, a value too long): the
        // alert's values are made safe before this, so this is a hook configured so.
        this.log.error({ ...fields, err: printable(err instanceof Error ? err.message : String(err)) }, 'alert hook could not run');
        resolve(null);
      }
    });
  }

  private finished(
    program: string,
    fullArgs: readonly string[],
    fields: Record<string, unknown>,
    e: ExecFileException | null,
    stdout: string | Buffer,
    stderr: string | Buffer,
  ): HookResult {
    const timedOut = Boolean(e?.killed && e.signal === 'SIGKILL');
    const result: HookResult = {
      argv: [program, ...fullArgs],
      code: typeof e?.code === 'number' ? e.code : e ? null : 0,
      signal: e?.signal ?? null,
      timedOut,
      stdout: truncate(String(stdout)),
      stderr: truncate(String(stderr)),
    };
    const logged = { ...fields, stdout: result.stdout, stderr: result.stderr };
    if (!e) this.log.info({ ...logged, code: 0 }, 'alert hook ran');
    else if (timedOut) this.log.error(logged, `alert hook killed: still running after ${this.limits.timeoutMs} ms`);
    else if (typeof e.code === 'string') this.log.error(logged, `alert hook could not run: ${e.message}`);
    else this.log.error({ ...logged, code: result.code, signal: result.signal }, `alert hook failed: ${e.message.split('\n')[0]}`);
    return result;
  }
}

function truncate(text: string): string {
  return Buffer.byteLength(text) <= HOOK_OUTPUT_LOG_BYTES
    ? text
    : `${Buffer.from(text).subarray(0, HOOK_OUTPUT_LOG_BYTES).toString('utf8')}… (cut at ${HOOK_OUTPUT_LOG_BYTES} bytes)`;
}
