// An alert's details: what hooks get in their environment and the webhook as JSON.

import type { CertificateStatus } from '../../engine/types.ts';
import type { HookEvent } from './hook-config.ts';

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

const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

export function alertDetails(event: HookEvent, cert: string, s: CertificateStatus, now: number): AlertDetails {
  return {
    event,
    cert,
    subject: s.subject,
    serial: s.serial,
    state: s.state,
    certStatus: s.certStatus,
    mustStaple: s.mustStaple,
    thisUpdate: iso(s.thisUpdate),
    nextUpdate: iso(s.nextUpdate),
    validUntil: iso(s.validUntil),
    nextRefreshAt: iso(s.nextRefreshAt),
    lastError: s.lastError ? `${s.lastError.reason}: ${s.lastError.message}` : null,
    consecutiveFailures: s.consecutiveFailures,
    time: new Date(now).toISOString(),
  };
}
