// The soak's time scale: responses valid for 3 minutes (issued a minute in the past, so 2 minutes
// ahead), refreshed every half-window, retried within seconds, so that a run of minutes goes
// through many refreshes, outages and expiries.

import { FILE_HANDOFF_MS, RESPONDER_HANDOFF_MS } from '../../src/daemon/handoff.ts';

export const VALIDITY_MS = 180_000;

/** The engine's tunables, for the daemon's configuration and the library server alike. */
export const SOAK_ENGINE = {
  timeoutMs: 1_500,
  deadlineMs: 4_000,
  refresh: { minIntervalMs: 5_000, floorMs: 1_000, backoffInitialMs: 1_000, backoffMaxMs: 8_000, triesBeforeExpiry: 4 },
} as const;

/**
 * How long after a valid response exists a server may still lack it without counting as a miss:
 * the daemon writes it, the reload command runs (nginx), or Apache's error cache (5 s) runs out.
 */
export const PROPAGATION_MS = { library: 1_000, daemon: 1_000, nginx: 4_000, apache: 8_000 } as const;

/** Apache staples up to SSLStaplingResponseTimeSkew (1 s) past nextUpdate; openssl-era clients allow that. */
export const EXPIRY_GRACE_MS = { library: 0, daemon: 0, nginx: 0, apache: 1_500 } as const;

/** The daemon's reload debounce in the soak's configuration. */
export const RELOAD_DEBOUNCE_MS = 200;

/**
 * How long before nextUpdate a face stops offering a staple on purpose (src/daemon/handoff.ts):
 * the responder keeps 1 s of margin, a staple file is withdrawn 5 s plus the reload's debounce
 * early, so that no server staples it expired. A response in its last stretch is not one that a
 * face should still staple: it does not count as existing there.
 */
export const HANDOFF_MS = {
  library: 0,
  daemon: RESPONDER_HANDOFF_MS,
  nginx: FILE_HANDOFF_MS + RELOAD_DEBOUNCE_MS,
  apache: RESPONDER_HANDOFF_MS,
} as const;
