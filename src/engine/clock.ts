// The engine's notion of time, injected so that every time-dependent behaviour is tested on a
// fake clock. Timers are unref'd unless asked otherwise: a pending refresh never keeps a process
// alive by itself, but a wait that someone awaits (ready()'s deadline) must, or Node exits with
// the await unsettled.

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  now(): number;
  /** Run `fn` at (or soon after) epoch-ms `at`. `keepAlive`: the timer keeps the process alive until then. */
  at(at: number, fn: () => void, keepAlive?: boolean): TimerHandle;
}

/** Node's setTimeout caps delays at 2^31-1 ms (~24.8 days); longer waits are chained. */
const MAX_DELAY = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => Date.now(),
  at(at, fn, keepAlive = false) {
    let timer: NodeJS.Timeout;
    const arm = (): void => {
      const delay = Math.max(0, at - Date.now());
      timer = setTimeout(delay > MAX_DELAY ? arm : fn, Math.min(delay, MAX_DELAY));
      if (!keepAlive) timer.unref();
    };
    arm();
    return { cancel: () => clearTimeout(timer) };
  },
};
