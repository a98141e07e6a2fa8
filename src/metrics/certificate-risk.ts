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

export interface Health {
  readonly healthy: boolean;
  /** One line per problem, naming the certificate. */
  readonly problems: readonly string[];
}

/**
 * The /healthz rule: healthy when every Must-Staple certificate is serving a staple, and no staple
 * being served lapses within `windowMs` (default an hour). Certificates without Must-Staple that
 * have no staple at all do not make it unhealthy: their handshakes go on without one.
 */
export function judgeHealth(statuses: readonly CertificateStatus[], now: number, label: (s: CertificateStatus) => string, windowMs = LAPSE_WARNING_MS): Health {
  const problems: string[] = [];
  for (const s of statuses) {
    if (s.mustStaple && !isStapled(s)) problems.push(`${label(s)}: Must-Staple and no staple (${s.state}${s.lastError ? `: ${s.lastError.reason}` : ''})`);
    else if (isStapled(s) && s.validUntil !== null && s.validUntil - now < windowMs) {
      const minutes = Math.max(0, Math.floor((s.validUntil - now) / 60_000));
      problems.push(`${label(s)}: the staple lapses in ${minutes} min (at ${new Date(s.validUntil).toISOString()})`);
    }
  }
  return { healthy: problems.length === 0, problems };
}

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
