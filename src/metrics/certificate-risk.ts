// Readings of the engine's verdict (src/engine/verdict.ts, the one rule) for the metrics, /healthz
// and the alerts, and the labels they name certificates by.

import type { CertificateStatus } from '../engine/types.ts';
import { overall, type Judged, type VerdictLevel } from '../engine/verdict.ts';

export { LAPSE_WARNING_MS } from '../engine/verdict.ts';

/** Serving a staple now. */
export const isStapled = (s: CertificateStatus): boolean => s.serving;

/**
 * A Must-Staple certificate that clients enforcing Must-Staple will refuse now, or may soon: it has
 * no staple, or its staple lapses before it is replaced.
 */
export const mustStapleAtRisk = (s: CertificateStatus): boolean => s.mustStaple && s.atRisk;

/** The /healthz verdict on the managed certificates: healthy or not, with one line per problem. */
export interface Health {
  /** Not CRITICAL: /healthz answers 200 (with the WARNING lines, if any), else 503. */
  readonly healthy: boolean;
  readonly verdict: VerdictLevel;
  /** One line per problem, naming the certificate, worst first (bounded: see `more`). */
  readonly problems: readonly string[];
  /** Problem lines left out. */
  readonly more: number;
}

/** The /healthz reading of the verdicts: unhealthy when any certificate is CRITICAL. */
export function judgeHealth<T extends Judged>(items: Iterable<T>, label: (s: T) => string, maxProblems = 100): Health {
  const o = overall(items, label, maxProblems);
  return { healthy: o.verdict !== 'CRITICAL', verdict: o.verdict, problems: o.problems, more: o.more };
}

/** The /healthz body: "ok", or the verdict and its problem lines. */
export function healthBody(h: Health): string {
  if (h.problems.length === 0 && h.verdict === 'OK') return 'ok\n';
  const head = h.healthy ? 'warning:' : 'unhealthy:';
  return `${head}\n${h.problems.map((p) => `- ${p}\n`).join('')}${h.more > 0 ? `- … and ${h.more} more\n` : ''}`;
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
