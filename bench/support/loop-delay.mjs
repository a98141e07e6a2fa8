// Preloaded into a daemon by bench/feed-flood (node --import): its own event-loop delay, reset on
// SIGUSR2 (the flood starts) and written to $STAPLER_BENCH_LOOP_DELAY_FILE when it exits. The
// responder's latency seen by a client on a shared machine also holds the time the daemon waited
// for a core; this is what the daemon's own work costs.
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const file = process.env.STAPLER_BENCH_LOOP_DELAY_FILE;
const h = monitorEventLoopDelay({ resolution: 5 });
h.enable();
process.on('SIGUSR2', () => h.reset());
process.on('exit', () => {
  if (!file) return;
  const ms = (ns) => ns / 1e6;
  writeFileSync(file, JSON.stringify({ p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) }));
});
