// Pure judgements on certificate statuses, shared by the metrics, /healthz and the alerts.

import type { CertificateStatus } from '../engine/types.ts';

/** A staple that lapses sooner than this makes /healthz fail (refreshing should have replaced it long before). */
export const LAPSE_WARNING_MS = 60 * 60_000;

const STAPLED = new Set(['stapled', 'stapled-refresh-failing']);

/** Serving a staple now. */
export const isStapled = (s: CertificateStatus): boolean => STAPLED.has(s.state);

/**
 * A Must-Staple certificate that clients enforcing Must-Staple will refuse now, or may soon: it has
 * no staple, or its refresh is failing and the next try comes after its staple lapses (the
 * engine's own mustStapleAtRisk rule).
 */
export function mustStapleAtRisk(s: CertificateStatus): boolean {
  if (!s.mustStaple) return false;
  if (!isStapled(s)) return true;
  return s.state === 'stapled-refresh-failing' && s.validUntil !== null && s.nextRefreshAt !== null && s.nextRefreshAt >= s.validUntil;
}

/** The /healthz verdict on the managed certificates: healthy or not, with one line per problem. */
export interface Health {
  readonly healthy: boolean;
  /** One line per problem, naming the certificate. */
  readonly problems: readonly string[];
}

/**
 * The /healthz rule. Unhealthy when:
 * (a) a Must-Staple certificate has no acceptable staple (unstapled, no responder, no issuer);
 * (b) any certificate is unstapled: its first fetch failed, or its staple expired during an outage.
 *     Without Must-Staple too: the daemon's responder then answers 503 and servers staple nothing,
 *     which is the failure stapling exists to avoid, and the daemon can only fix it with the CA back;
 * (c) a staple lapses within `windowMs` (an hour) and its refresh is failing, or no refresh is
 *     planned before it lapses. A freshly refreshed short-lived staple (1-hour responses) is healthy.
 * Pending (first fetch not done) is healthy: the daemon is starting. No responder without
 * Must-Staple is healthy: there is nothing to staple.
 */
export function judgeHealth(statuses: readonly CertificateStatus[], now: number, label: (s: CertificateStatus) => string, windowMs = LAPSE_WARNING_MS): Health {
  const problems: string[] = [];
  const why = (s: CertificateStatus): string => `${s.state}${s.lastError ? `: ${s.lastError.reason}` : ''}`;
  for (const s of statuses) {
    if (s.state === 'pending') continue;
    if (s.mustStaple && !isStapled(s)) problems.push(`${label(s)}: Must-Staple and no staple (${why(s)})`);
    else if (s.state === 'unstapled') problems.push(`${label(s)}: no staple (${why(s)})`);
    else if (isStapled(s) && s.validUntil !== null && s.validUntil - now < windowMs && !refreshPlannedInTime(s)) {
      const minutes = Math.max(0, Math.floor((s.validUntil - now) / 60_000));
      const cause = s.state === 'stapled-refresh-failing' ? `its refresh is failing (${why(s)})` : 'no refresh is planned before then';
      problems.push(`${label(s)}: the staple lapses in ${minutes} min (at ${new Date(s.validUntil).toISOString()}) and ${cause}`);
    }
  }
  return { healthy: problems.length === 0, problems };
}

/** A healthy refresh ahead: not failing, and planned before the staple lapses. */
const refreshPlannedInTime = (s: CertificateStatus): boolean =>
  s.state === 'stapled' && s.nextRefreshAt !== null && s.validUntil !== null && s.nextRefreshAt < s.validUntil;

/** The default `cert` label outside the daemon: subject and serial, unique within the managed set. */
export const subjectSerial = (s: CertificateStatus): string => `${s.subject} #${s.serial}`;

/** A responder URL's host (and port), for labels; 'none' or 'invalid' when there is none. */
export function responderHost(url: string | undefined): string {
  if (!url) return 'none';
  try {
    return new URL(url).host;
  } catch {
    return 'invalid';
  }
}
