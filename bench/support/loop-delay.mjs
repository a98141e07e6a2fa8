// Preloaded into a daemon by bench/feed-flood (node --import): how long its own event loop is held,
// reset on SIGUSR2 (the measured window starts) and written to $STAPLER_BENCH_LOOP_DELAY_FILE when
// it exits. Two measures, because a client's latency on a shared machine also holds the time the
// daemon waited for a core:
//   - lateness: how late a 5 ms timer fires (monitorEventLoopDelay, minus its 5 ms period): the
//     daemon's own work plus the time it was not scheduled;
//   - CPU per tick: the process's CPU time between two turns of a 1 ms timer. A run of callbacks
//     that holds the loop shows here whatever else runs on the machine (waiting for a core uses no
//     CPU time): the daemon's own contribution. On Node >= 23.9 the main thread's CPU time
//     (process.threadCpuUsage); before, the process's (GC and libuv threads included: an upper bound).
import { writeFileSync } from 'node:fs';
import { createHistogram, monitorEventLoopDelay } from 'node:perf_hooks';

const file = process.env.STAPLER_BENCH_LOOP_DELAY_FILE;
const RESOLUTION_MS = 5;
const lateness = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
lateness.enable();
const threadCpu = typeof process.threadCpuUsage === 'function';
const cpuNow = () => {
  const u = threadCpu ? process.threadCpuUsage() : process.cpuUsage();
  return u.user + u.system;
};
/** CPU µs between two ticks (recorded as at least 1: a histogram takes positive integers). */
const perTick = createHistogram();
let last = cpuNow();
setInterval(() => {
  const now = cpuNow();
  perTick.record(Math.max(1, Math.round(now - last)));
  last = now;
}, 1).unref();
process.on('SIGUSR2', () => {
  lateness.reset();
  perTick.reset();
});
process.on('exit', () => {
  if (!file) return;
  const ms = (ns) => ns / 1e6;
  const late = (ns) => Math.max(0, ms(ns) - RESOLUTION_MS);
  writeFileSync(
    file,
    JSON.stringify({
      p50: late(lateness.percentile(50)),
      p99: late(lateness.percentile(99)),
      max: late(lateness.max),
      cpuPerTick: { p50: perTick.percentile(50) / 1000, p99: perTick.percentile(99) / 1000, max: perTick.max / 1000, ticks: perTick.count },
      thread: threadCpu,
    }),
  );
});
