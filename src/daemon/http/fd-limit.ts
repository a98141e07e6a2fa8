// How many connections the listener may hold, from the process's open-file limit. At the cap the
// listener evicts the oldest connection that has not sent a request, so that Apache's fetch is
// answered through a flood; but a cap above what `ulimit -n` allows is never reached: accept()
// fails with EMFILE first, and libuv then accepts and closes every new connection (Apache reads
// "connection reset"), the legitimate one included. Measured in the soak under `ulimit -n 384`
// with 434 idle connections held: Apache's fetch was reset for 3 s and its handshakes went
// unstapled. So the cap stays below the limit, with room left for the daemon's own files.

import { readFileSync } from 'node:fs';

/** The soft RLIMIT_NOFILE, read from /proc/self/limits; null where that cannot be read (not Linux). */
export function openFileLimit(read: () => string = () => readFileSync('/proc/self/limits', 'utf8')): number | null {
  let text: string;
  try {
    text = read();
  } catch {
    return null;
  }
  const soft = /^Max open files\s+(\S+)/m.exec(text)?.[1];
  if (soft === undefined || soft === 'unlimited') return null;
  const n = Number(soft);
  return Number.isInteger(n) && n > 0 ? n : null;
}

/**
 * The connection cap under an open-file limit: `max`, lowered so that the daemon keeps a reserve
 * of descriptors for its staple files, store, Redis, CA fetches and logs (about 30 in the soak,
 * outside a flood): 64, or half the limit when that is smaller. At least 1.
 */
export function connectionCap(max: number, fdLimit: number | null): number {
  if (fdLimit === null) return max;
  const reserve = Math.min(64, Math.floor(fdLimit / 2));
  return Math.max(1, Math.min(max, fdLimit - reserve));
}
