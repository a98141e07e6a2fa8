// Runs alert hooks: execFile (argv, no shell), details in the environment and as arguments, a
// bounded run time (SIGKILL after the timeout), bounded concurrency and queue, and the output
// captured (truncated) to the log. A hook that fails is logged; nothing it does reaches the daemon.

import { execFile } from 'node:child_process';
import type { Logger } from '../../engine/logger.ts';
import type { AlertDetails } from './alert.ts';

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
  private running = 0;
  private readonly queue: (() => void)[] = [];
  private readonly inflight = new Set<Promise<HookResult>>();

  constructor(
    private readonly log: Logger,
    private limits: { timeoutMs: number; concurrency: number },
  ) {}

  configure(limits: { timeoutMs: number; concurrency: number }): void {
    this.limits = limits;
  }

  /** Run `argv` for an alert; resolves when it has run (or been dropped: null). */
  run(argv: readonly string[], alert: AlertDetails): Promise<HookResult | null> {
    if (this.running >= this.limits.concurrency && this.queue.length >= MAX_QUEUED_HOOKS) {
      this.log.error({ event: alert.event, cert: alert.cert, hook: argv[0] }, `alert hook dropped: ${MAX_QUEUED_HOOKS} hooks are already waiting`);
      return Promise.resolve(null);
    }
    const p = this.slot().then(() => this.exec(argv, alert).finally(() => this.release()));
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
    return p;
  }

  /** Resolves when every hook started or queued so far has finished. */
  async settled(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  private slot(): Promise<void> {
    if (this.running < this.limits.concurrency) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.queue.push(resolve));
  }

  private release(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.running--;
  }

  private exec(argv: readonly string[], alert: AlertDetails): Promise<HookResult> {
    const [program, ...args] = argv;
    const fullArgs = [...args, alert.event, alert.cert];
    return new Promise((resolve) => {
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
        (err, stdout, stderr) => {
          const e = err as (NodeJS.ErrnoException & { killed?: boolean; signal?: string | null; code?: number | string }) | null;
          const timedOut = Boolean(e?.killed && e.signal === 'SIGKILL');
          const result: HookResult = {
            argv: [program!, ...fullArgs],
            code: typeof e?.code === 'number' ? e.code : e ? null : 0,
            signal: e?.signal ?? null,
            timedOut,
            stdout: truncate(String(stdout)),
            stderr: truncate(String(stderr)),
          };
          const fields = { event: alert.event, cert: alert.cert, hook: program, stdout: result.stdout, stderr: result.stderr };
          if (!e) this.log.info({ ...fields, code: 0 }, 'alert hook ran');
          else if (timedOut) this.log.error(fields, `alert hook killed: still running after ${this.limits.timeoutMs} ms`);
          else if (typeof e.code === 'string') this.log.error(fields, `alert hook could not run: ${e.message}`);
          else this.log.error({ ...fields, code: result.code, signal: result.signal }, `alert hook failed: ${e.message.split('\n')[0]}`);
          resolve(result);
        },
      ).stdin?.end();
    });
  }
}

function truncate(text: string): string {
  return Buffer.byteLength(text) <= HOOK_OUTPUT_LOG_BYTES
    ? text
    : `${Buffer.from(text).subarray(0, HOOK_OUTPUT_LOG_BYTES).toString('utf8')}… (cut at ${HOOK_OUTPUT_LOG_BYTES} bytes)`;
}
