// The engine's notion of time, injected so that every time-dependent behaviour is tested on a
// fake clock. Timers are unref'd: a pending refresh never keeps a process alive by itself.

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  now(): number;
  /** Run `fn` at (or soon after) epoch-ms `at`. */
  at(at: number, fn: () => void): TimerHandle;
}

/** Node's setTimeout caps delays at 2^31-1 ms (~24.8 days); longer waits are chained. */
const MAX_DELAY = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => Date.now(),
  at(at, fn) {
    let timer: NodeJS.Timeout;
    const arm = (): void => {
      const delay = Math.max(0, at - Date.now());
      timer = setTimeout(delay > MAX_DELAY ? arm : fn, Math.min(delay, MAX_DELAY));
      timer.unref();
    };
    arm();
    return { cancel: () => clearTimeout(timer) };
  },
};
