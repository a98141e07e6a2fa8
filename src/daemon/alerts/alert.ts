// An alert's details: what hooks get in their environment and the webhook as JSON. Every text
// is made safe here, once, for all three (env, argv, JSON): control characters escaped and the
// length bounded. A certificate's subject or an error naming its URL is the certificate
// author's text; a NUL in it made execFile throw, and the daemon exit (issue 16).

import type { CertificateStatus } from '../../engine/types.ts';
import { printable } from '../../ocsp/printable.ts';
import type { HookEvent } from './hook-config.ts';

/** The longest text field of an alert (characters before escaping; the rest is cut with a note). */
export const ALERT_FIELD_MAX_CHARS = 1024;

export interface AlertDetails {
  readonly event: HookEvent;
  /** The certificate's label (its file in the daemon). */
  readonly cert: string;
  readonly subject: string;
  readonly serial: string;
  readonly state: string;
  readonly certStatus: 'good' | 'revoked' | null;
  readonly mustStaple: boolean;
  readonly thisUpdate: string | null;
  readonly nextUpdate: string | null;
  readonly validUntil: string | null;
  readonly nextRefreshAt: string | null;
  readonly lastError: string | null;
  readonly consecutiveFailures: number;
  /** When the alert was raised. */
  readonly time: string;
}

/** ISO 8601, or null for no time or one a Date cannot show (toISOString would throw). */
const iso = (t: number | null): string | null => (t === null || !Number.isFinite(new Date(t).getTime()) ? null : new Date(t).toISOString());
const safe = (text: string): string => printable(text, ALERT_FIELD_MAX_CHARS);

export function alertDetails(event: HookEvent, cert: string, s: CertificateStatus, now: number): AlertDetails {
  return {
    event,
    cert: safe(cert),
    subject: safe(s.subject),
    serial: safe(s.serial),
    state: s.state,
    certStatus: s.certStatus,
    mustStaple: s.mustStaple,
    thisUpdate: iso(s.thisUpdate),
    nextUpdate: iso(s.nextUpdate),
    validUntil: iso(s.validUntil),
    nextRefreshAt: iso(s.nextRefreshAt),
    lastError: s.lastError ? safe(`${s.lastError.reason}: ${s.lastError.message}`) : null,
    consecutiveFailures: s.consecutiveFailures,
    time: iso(now) ?? '',
  };
}
