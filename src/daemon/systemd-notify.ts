// systemd's notify protocol (sd_notify(3)), spoken when NOTIFY_SOCKET is set: READY=1 once the
// first fetches are done and every include exists, STATUS= with counts, RELOADING=1 and READY=1
// around a SIGHUP, STOPPING=1, and WATCHDOG=1 every half WATCHDOG_USEC.
//
// Node cannot send AF_UNIX datagrams (node:dgram is UDP only), so each message goes through
// /usr/bin/systemd-notify (part of systemd itself, so present wherever NOTIFY_SOCKET is set),
// with --pid naming this process as the main PID. It waits (a barrier) until systemd has read
// the message, so the message is attributed before the helper exits. The unit needs
// NotifyAccess=all, since the helper is not the main PID. (docs/design.md: why not the native
// `sd-notify` package.)

import { execFile } from 'node:child_process';
import type { Clock, TimerHandle } from '../engine/clock.ts';
import type { Logger } from '../engine/logger.ts';

export const SYSTEMD_NOTIFY = '/usr/bin/systemd-notify';
const SEND_TIMEOUT_MS = 5_000;

export class SystemdNotifier {
  private queue: Promise<void> = Promise.resolve();
  private watchdog: TimerHandle | null = null;
  private warned = false;
  private stopped = false;

  private constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly log: Logger,
    private readonly clock: Clock,
    private readonly command: string,
  ) {}

  /** A notifier when systemd asked for one (NOTIFY_SOCKET), else null. */
  static fromEnv(env: NodeJS.ProcessEnv, log: Logger, clock: Clock, command = SYSTEMD_NOTIFY): SystemdNotifier | null {
    return env.NOTIFY_SOCKET ? new SystemdNotifier(env, log, clock, command) : null;
  }

  ready(status: string): Promise<void> {
    this.startWatchdog();
    return this.send({ READY: '1', STATUS: status });
  }

  reloading(): Promise<void> {
    // MONOTONIC_USEC: systemd 253+ wants it with RELOADING=1 (CLOCK_MONOTONIC, which hrtime reads).
    return this.send({ RELOADING: '1', MONOTONIC_USEC: String(process.hrtime.bigint() / 1000n), STATUS: 'reloading the configuration' });
  }

  status(status: string): Promise<void> {
    return this.send({ STATUS: status });
  }

  async stopping(): Promise<void> {
    this.watchdog?.cancel();
    await this.send({ STOPPING: '1', STATUS: 'stopping' });
    this.stopped = true;
  }

  /** WATCHDOG=1 at half the interval systemd gave (WATCHDOG_USEC), if it gave one for this process. */
  private startWatchdog(): void {
    const usec = Number(this.env.WATCHDOG_USEC);
    const forPid = this.env.WATCHDOG_PID;
    if (this.watchdog || !Number.isFinite(usec) || usec <= 0 || (forPid && Number(forPid) !== process.pid)) return;
    const every = Math.max(1, Math.floor(usec / 2000));
    const ping = (): void => {
      if (this.stopped) return;
      void this.send({ WATCHDOG: '1' });
      this.watchdog = this.clock.at(this.clock.now() + every, ping, true);
    };
    ping();
  }

  /** Messages go out one at a time, in order; a failure is logged once, never thrown. */
  send(fields: Readonly<Record<string, string>>): Promise<void> {
    if (this.stopped) return Promise.resolve();
    // One line per field: a newline inside a value would start another field.
    const args = [`--pid=${process.pid}`, ...Object.entries(fields).map(([k, v]) => `${k}=${v.replace(/[\r\n]+/g, ' ')}`)];
    this.queue = this.queue.then(
      () =>
        new Promise<void>((resolve) => {
          execFile(this.command, args, { env: this.env, timeout: SEND_TIMEOUT_MS }, (err, _out, stderr) => {
            if (err && !this.warned) {
              this.warned = true;
              this.log.error(
                { command: this.command, err: (String(stderr).trim() || err.message).split('\n')[0] },
                'cannot notify systemd (NOTIFY_SOCKET is set)',
              );
            } else if (!err) this.warned = false;
            resolve();
          });
        }),
    );
    return this.queue;
  }
}
