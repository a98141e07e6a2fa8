// When to fetch next: pure functions of (the current response, the fetch history, now, the
// settings). Each rule is one line of the table, and each has its own test.

/** When a staple is refreshed and how failed refreshes back off. */
export interface RefreshSettings {
  /** Refresh this far into the validity window (0.5: halfway, as the Baseline Requirements ask of CAs). */
  readonly refreshFraction: number;
  /** Never refresh sooner than this after a fetch, unless the staple would expire first. */
  readonly minIntervalMs: number;
  /** Refreshes move earlier by up to this fraction of the window, so that certificates spread out. */
  readonly jitterFraction: number;
  /** First retry delay after a failure; doubles with each further failure. */
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  /** ± this fraction of random spread on each retry delay. */
  readonly backoffJitter: number;
  /** Near expiry, the retry delay is at most (time left) / this, so several tries fit before expiry. */
  readonly triesBeforeExpiry: number;
  /** No two fetches for one certificate closer than this, whatever else the rules say. */
  readonly floorMs: number;
  /**
   * A refresh already overdue when planned (staples loaded after a restart, or many that share
   * one nextUpdate) is spread at random over up to this long, so that they never reach the CA
   * at once; never more than (time left) / triesBeforeExpiry, so that retries still fit.
   */
  readonly overdueSpreadMs: number;
}

/** The refresh settings' defaults. */
export const DEFAULT_REFRESH_SETTINGS: RefreshSettings = {
  refreshFraction: 0.5,
  minIntervalMs: 5 * 60_000,
  jitterFraction: 0.05,
  backoffInitialMs: 60_000,
  backoffMaxMs: 60 * 60_000,
  backoffJitter: 0.2,
  triesBeforeExpiry: 4,
  floorMs: 10_000,
  overdueSpreadMs: 15 * 60_000,
};

export interface CurrentResponse {
  readonly thisUpdate: number;
  /** When it stops being servable (nextUpdate, or thisUpdate + the no-nextUpdate lifetime). */
  readonly validUntil: number;
  /** notAfter of the certificate that signed it: the response cannot outlive its signer. */
  readonly signerNotAfter: number;
  /** When the fetch that produced it happened. */
  readonly fetchedAt: number;
  /** Cache-Control max-age of that fetch, in seconds (RFC 9919 §6), if the responder sent one. */
  readonly maxAgeSeconds: number | null;
}

export interface Decision {
  readonly at: number;
  /** Which rule decided, for logs and status. */
  readonly rule: string;
}

/**
 * The next refresh after a successful fetch. `random` is in [0, 1): injected, so that tests are
 * exact and the jitter spreads certificates in production.
 */
export function nextRefresh(r: CurrentResponse, now: number, s: RefreshSettings, random: number): Decision {
  const end = Math.min(r.validUntil, r.signerNotAfter);
  const window = Math.max(0, end - r.thisUpdate);
  let at = r.thisUpdate + s.refreshFraction * window;
  let rule = r.signerNotAfter < r.validUntil ? 'fraction of window capped at signer notAfter' : 'fraction of validity window';
  if (r.maxAgeSeconds !== null) {
    const cacheEnd = r.fetchedAt + r.maxAgeSeconds * 1000;
    if (cacheEnd < at) {
      at = cacheEnd;
      rule = 'Cache-Control max-age';
    }
  }
  at -= random * s.jitterFraction * window;
  const earliest = r.fetchedAt + s.minIntervalMs;
  if (at < earliest) {
    if (earliest < end) {
      at = earliest;
      rule = 'minimum interval';
    } else {
      // The staple would expire before the minimum interval: refresh sooner, but not in a loop.
      at = Math.max(at, now + s.floorMs);
      rule = 'expires before the minimum interval';
    }
  }
  if (at > now + s.floorMs) return { at, rule };
  // Overdue: spread, but leave room for the retries before the staple ends.
  const room = (end - now) / s.triesBeforeExpiry - s.floorMs;
  const spread = Math.max(0, Math.min(s.overdueSpreadMs, room));
  return { at: now + s.floorMs + random * spread, rule: spread > 0 ? `${rule}, overdue: spread` : rule };
}

/**
 * The next try after `failures` consecutive failed fetches (1 for the first). `validUntil` is the
 * end of the staple still being served, or null when there is none.
 */
export function nextRetry(failures: number, validUntil: number | null, now: number, s: RefreshSettings, random: number): Decision {
  const base = s.backoffInitialMs * 2 ** Math.min(Math.max(failures - 1, 0), 30);
  let cap = s.backoffMaxMs;
  let capRule = 'backoff at its maximum';
  if (validUntil !== null && validUntil > now) {
    const nearExpiry = (validUntil - now) / s.triesBeforeExpiry;
    if (nearExpiry < cap) {
      cap = nearExpiry;
      capRule = 'backoff capped near expiry';
    }
  }
  // The rule names what decided: the doubling itself, or the cap that cut it short.
  const rule = base > cap ? capRule : 'exponential backoff';
  const delay = Math.min(base, cap) * (1 + s.backoffJitter * (2 * random - 1));
  return { at: now + Math.max(delay, s.floorMs), rule };
}
