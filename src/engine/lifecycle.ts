// One certificate's lifecycle as a pure transition: (state, event, context) → (state, effects).
// The product's promises live here and nowhere else, each tested as a table row:
// never serve worse, a revocation sticks (certificateHold aside), the staple is dropped at its end,
// retries fit before expiry. The engine is the driver: it runs the timers, fetches, store calls,
// logs and events that the effects ask for.

import type { FailureReason } from '../fetch/staple-fetcher.ts';
import type { Acceptable } from '../ocsp/verify.ts';
import { nextRefresh, nextRetry, type Decision, type RefreshSettings } from './policy.ts';

/** certificateHold (RFC 5280): the only revocation reason that may be lifted. */
const CERTIFICATE_HOLD = 6;

export interface Staple {
  readonly der: Buffer;
  readonly verdict: Acceptable;
  /** When the fetch that produced it happened (for a stored one: its producedAt, at most now). */
  readonly fetchedAt: number;
  /** The responder's Cache-Control max-age, in seconds. */
  readonly maxAgeSeconds: number | null;
  readonly source: 'fetch' | 'store';
}

export interface LastError {
  readonly reason: FailureReason;
  readonly message: string;
  readonly at: number;
}

export interface Lifecycle {
  readonly staple: Staple | null;
  /** Consecutive failed refreshes. */
  readonly failures: number;
  /**
   * The failure count at which the current backoff began. Expiry starts a new one: the retries
   * that crowded in before expiry (the near-expiry cap) must not leave an unstapled certificate
   * an hour from its next try.
   */
  readonly backoffFrom: number;
  /** A fetch has finished, or a staple was installed: no longer "pending". */
  readonly attempted: boolean;
  readonly lastError: LastError | null;
  readonly nextRefresh: Decision | null;
  /** When the last fetch started (null: never). */
  readonly lastFetchAt: number | null;
  readonly fetches: number;
  readonly fetchFailures: number;
}

export const INITIAL_LIFECYCLE: Lifecycle = {
  staple: null,
  failures: 0,
  backoffFrom: 0,
  attempted: false,
  lastError: null,
  nextRefresh: null,
  lastFetchAt: null,
  fetches: 0,
  fetchFailures: 0,
};

export type LifecycleEvent =
  | { readonly type: 'fetch-started' }
  /** A fetched response, verified acceptable. */
  | { readonly type: 'fetched'; readonly staple: Staple }
  | { readonly type: 'fetch-failed'; readonly reason: FailureReason; readonly message: string }
  /** A response from the store (another process's fetch, or ours before a restart), verified acceptable. */
  | { readonly type: 'loaded'; readonly staple: Staple }
  /** The expiry timer fired. */
  | { readonly type: 'expired' }
  /** Another process holds the refresh lease: its result will come through the store. */
  | { readonly type: 'lease-busy' }
  /** The refresh policy changed: plan the next refresh again under the new settings. */
  | { readonly type: 'replanned' }
  /** The verification settings changed: the held staple verified again (null: refused, and why). */
  | { readonly type: 'reverified'; readonly verdict: Acceptable | null; readonly message: string };

export type EngineEventName = 'updated' | 'revoked' | 'expired' | 'refreshFailed' | 'mustStapleAtRisk';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type Effect =
  /** Remove the staple when this time comes (replaces any earlier expiry timer). */
  | { readonly type: 'arm-expiry'; readonly at: number }
  | { readonly type: 'save'; readonly der: Buffer; readonly expiresAt: number }
  | { readonly type: 'emit'; readonly event: EngineEventName }
  | { readonly type: 'log'; readonly level: LogLevel; readonly fields: Readonly<Record<string, unknown>>; readonly message: string };

export interface StepContext {
  readonly now: number;
  readonly settings: RefreshSettings;
  /** In [0, 1): the jitter of this step's schedule. */
  readonly random: number;
  readonly mustStaple: boolean;
  readonly leaseTtlMs: number;
}

export interface Step {
  readonly state: Lifecycle;
  readonly effects: readonly Effect[];
}

/** The whole lifecycle: every transition of one certificate goes through here. */
export function step(state: Lifecycle, event: LifecycleEvent, ctx: StepContext): Step {
  switch (event.type) {
    case 'fetch-started':
      return { state: { ...state, lastFetchAt: ctx.now, fetches: state.fetches + 1 }, effects: [log('debug', {}, 'fetching an OCSP response')] };
    case 'fetched':
    case 'loaded':
      return offered(state, event.staple, event.type === 'fetched', ctx);
    case 'fetch-failed':
      return failed(state, event.reason, event.message, ctx);
    case 'expired':
      return expired(state, ctx);
    case 'reverified':
      return reverified(state, event.verdict, event.message, ctx);
    case 'replanned':
      return { state: { ...state, nextRefresh: replan(state, ctx) }, effects: [] };
    case 'lease-busy': {
      const nextRefresh = { at: ctx.now + Math.min(ctx.leaseTtlMs, ctx.settings.backoffInitialMs), rule: 'another process is fetching' };
      return {
        state: { ...state, nextRefresh },
        effects: [log('debug', { nextTry: iso(nextRefresh.at) }, 'another process holds the refresh lease: waiting for its result')],
      };
    }
  }
}

/** Whether a refresh is due now (or within the floor): nothing acceptable, or past its refresh point. */
export function isDue(state: Lifecycle, now: number, settings: RefreshSettings): boolean {
  return state.staple === null || state.nextRefresh === null || state.nextRefresh.at <= now + settings.floorMs;
}

/** Why `next` must not replace `current`, or null when it may. */
export function replacementRefused(current: Staple | null, next: Staple): 'same' | 'older' | 'revocation sticks' | null {
  if (!current) return null;
  if (current.der.equals(next.der)) return 'same';
  const c = current.verdict;
  const n = next.verdict;
  if (c.certStatus === 'revoked' && n.certStatus === 'good' && c.revocationReason !== CERTIFICATE_HOLD) return 'revocation sticks';
  if (n.thisUpdate < c.thisUpdate) return 'older';
  // A store copy with the same thisUpdate adds nothing; a fetch may (a re-signed response).
  if (next.source === 'store' && n.thisUpdate === c.thisUpdate) return 'same';
  return null;
}

/**
 * Whether `a` is strictly better than `b`, both acceptable: the rule above for a stored copy (a
 * tie keeps `b`). Which stored copy to adopt, and which stored copy a staple may replace.
 */
export function supersedes(a: Staple, b: Staple): boolean {
  return replacementRefused(b, a.source === 'store' ? a : { ...a, source: 'store' }) === null;
}

function offered(state: Lifecycle, next: Staple, fetched: boolean, ctx: StepContext): Step {
  const refused = replacementRefused(state.staple, next);
  // A fetch that returned an acceptable answer is a success, even when that answer is not used.
  const base: Lifecycle = fetched ? { ...state, failures: 0, backoffFrom: 0, lastError: null, attempted: true } : state;
  if (refused) {
    if (!fetched) return { state, effects: [] };
    const kept = state.staple!;
    const effects: Effect[] =
      refused === 'revocation sticks'
        ? [log('warn', {}, 'responder now says good for a certificate it said was revoked: keeping the revocation')]
        : [log('debug', { kept: refused }, 'the fetched response is not newer than the staple: keeping the staple')];
    return { state: { ...base, nextRefresh: plan(kept, next, ctx) }, effects };
  }
  const wasRevoked = state.staple?.verdict.certStatus === 'revoked';
  const v = next.verdict;
  const nextRefresh = plan(next, next, ctx);
  const effects: Effect[] = [{ type: 'arm-expiry', at: v.validUntil }];
  if (fetched) effects.push({ type: 'save', der: next.der, expiresAt: v.validUntil });
  effects.push(
    log(
      'info',
      { certStatus: v.certStatus, source: next.source, thisUpdate: iso(v.thisUpdate), nextUpdate: iso(v.nextUpdate), nextRefresh: iso(nextRefresh.at) },
      'stapling a new OCSP response',
    ),
    { type: 'emit', event: 'updated' },
  );
  if (v.certStatus === 'revoked' && !wasRevoked) {
    effects.push(log('error', { revocationTime: iso(v.revocationTime), revocationReason: v.revocationReason }, 'certificate is REVOKED: replace it'), {
      type: 'emit',
      event: 'revoked',
    });
  }
  return { state: { ...base, staple: next, failures: 0, backoffFrom: 0, lastError: null, attempted: true, nextRefresh }, effects };
}

/** The next refresh of the staple kept, timed from the fetch that just happened. */
function plan(kept: Staple, latest: Staple, ctx: StepContext): Decision {
  const v = kept.verdict;
  return nextRefresh(
    { thisUpdate: v.thisUpdate, validUntil: v.validUntil, signerNotAfter: v.signerNotAfter, fetchedAt: latest.fetchedAt, maxAgeSeconds: latest.maxAgeSeconds },
    ctx.now,
    ctx.settings,
    ctx.random,
  );
}

/** The next refresh under new settings: the retry after the last failed fetch, the refresh of the staple held, or as planned. */
function replan(state: Lifecycle, ctx: StepContext): Decision | null {
  const s = state.staple;
  if (state.failures > 0)
    return nextRetry(state.failures - state.backoffFrom, s?.verdict.validUntil ?? null, state.lastFetchAt ?? ctx.now, ctx.settings, ctx.random);
  return s ? plan(s, s, ctx) : state.nextRefresh;
}

function failed(state: Lifecycle, reason: FailureReason, message: string, ctx: StepContext): Step {
  const failures = state.failures + 1;
  const validUntil = state.staple?.verdict.validUntil ?? null;
  const nextRefresh = nextRetry(failures - state.backoffFrom, validUntil, ctx.now, ctx.settings, ctx.random);
  const next: Lifecycle = {
    ...state,
    failures,
    attempted: true,
    fetchFailures: state.fetchFailures + 1,
    lastError: { reason, message, at: ctx.now },
    nextRefresh,
  };
  const effects: Effect[] = [
    log(
      'warn',
      { reason, failures, keeping: state.staple ? 'last good response' : 'no staple', nextTry: iso(nextRefresh.at), rule: nextRefresh.rule },
      `OCSP refresh failed: ${message}`,
    ),
    { type: 'emit', event: 'refreshFailed' },
  ];
  if (ctx.mustStaple && (validUntil === null || nextRefresh.at >= validUntil)) effects.push(...atRisk(next));
  return { state: next, effects };
}

function expired(state: Lifecycle, ctx: StepContext): Step {
  const s = state.staple;
  // A timer for a staple since replaced, or one that fired early: nothing to do.
  if (!s || ctx.now < s.verdict.validUntil) return { state, effects: [] };
  // Fetching goes on: a try is due now, but never closer than the floor to the last one.
  const earliest = Math.max(ctx.now, (state.lastFetchAt ?? -Infinity) + ctx.settings.floorMs);
  const nextRefresh = state.nextRefresh && state.nextRefresh.at <= earliest ? state.nextRefresh : { at: earliest, rule: 'the staple expired' };
  const next: Lifecycle = { ...state, staple: null, backoffFrom: state.failures, nextRefresh };
  const effects: Effect[] = [
    log('warn', { validUntil: iso(s.verdict.validUntil) }, 'staple expired and was removed: handshakes get no staple until a fetch succeeds'),
    { type: 'emit', event: 'expired' },
  ];
  if (ctx.mustStaple) effects.push(...atRisk(next));
  return { state: next, effects };
}

/**
 * The held staple under new verification settings: one that still passes stays (with its new
 * verdict, so that its expiry follows the new rules); one they refuse is dropped as an expired
 * one is (never serve worse), logged once, and a fetch is due.
 */
function reverified(state: Lifecycle, verdict: Acceptable | null, message: string, ctx: StepContext): Step {
  const s = state.staple;
  if (!s) return { state, effects: [] };
  if (verdict) {
    const same = verdict.validUntil === s.verdict.validUntil;
    return { state: { ...state, staple: { ...s, verdict } }, effects: same ? [] : [{ type: 'arm-expiry', at: verdict.validUntil }] };
  }
  const earliest = Math.max(ctx.now, (state.lastFetchAt ?? -Infinity) + ctx.settings.floorMs);
  const next: Lifecycle = {
    ...state,
    staple: null,
    backoffFrom: state.failures,
    nextRefresh: { at: earliest, rule: 'the staple was refused by new settings' },
  };
  const effects: Effect[] = [
    log('warn', { reason: message }, `the staple held is refused under the new verification settings and was removed: ${message}`),
    { type: 'emit', event: 'expired' },
  ];
  if (ctx.mustStaple) effects.push(...atRisk(next));
  return { state: next, effects };
}

function atRisk(state: Lifecycle): Effect[] {
  const s = state.staple;
  return [
    log(
      'error',
      { validUntil: iso(s?.verdict.validUntil ?? null), nextTry: iso(state.nextRefresh?.at ?? null) },
      s
        ? 'Must-Staple certificate: its staple will expire before the next retry'
        : 'Must-Staple certificate has no staple: clients that enforce Must-Staple will refuse it',
    ),
    { type: 'emit', event: 'mustStapleAtRisk' },
  ];
}

function log(level: LogLevel, fields: Record<string, unknown>, message: string): Effect {
  return { type: 'log', level, fields, message };
}

function iso(t: number | null): string | null {
  return t === null ? null : new Date(t).toISOString();
}
