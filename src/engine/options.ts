// Checking StaplerOptions up front: each bad value gets an error that names the option, the
// value and what is expected, before anything starts.

import { responderUrlProblem } from '../fetch/url.ts';
import { InputError } from '../ocsp/errors.ts';
import type { StaplerOptions } from './types.ts';

function positive(name: string, value: number | undefined, max = Number.MAX_SAFE_INTEGER): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > max) {
    throw new InputError(name, `${String(value)} is not valid: expected a number greater than 0${max < Number.MAX_SAFE_INTEGER ? ` and at most ${max}` : ''}`);
  }
}

function urls(name: string, list: readonly string[] | undefined): void {
  if (list === undefined) return;
  if (!Array.isArray(list)) throw new InputError(name, 'expected a list of URLs');
  for (const url of list) {
    const problem = responderUrlProblem(String(url));
    if (problem) throw new InputError(name, problem);
  }
}

export function validateOptions(o: StaplerOptions): void {
  positive('timeoutMs', o.timeoutMs);
  positive('deadlineMs', o.deadlineMs);
  positive('leaseTtlMs', o.leaseTtlMs);
  positive('maxResponseBytes', o.maxResponseBytes, 16 * 1024 * 1024);
  positive('maxAgeWithoutNextUpdateMs', o.maxAgeWithoutNextUpdateMs);
  if (o.skewMs !== undefined && (!Number.isFinite(o.skewMs) || o.skewMs < 0)) throw new InputError('skewMs', `${String(o.skewMs)} is not valid: expected 0 or more`);
  if (o.concurrency !== undefined && (!Number.isInteger(o.concurrency) || o.concurrency < 1 || o.concurrency > 1024)) {
    throw new InputError('concurrency', `${String(o.concurrency)} is not valid: expected a whole number from 1 to 1024`);
  }
  if (o.hash !== undefined && !['sha1', 'sha256', 'sha384', 'sha512'].includes(o.hash)) {
    throw new InputError('hash', `"${String(o.hash)}" is not valid: expected sha1, sha256, sha384 or sha512`);
  }
  urls('responderUrls', o.responderUrls);
  for (const [issuer, list] of Object.entries(o.responderUrlsByIssuer ?? {})) urls(`responderUrlsByIssuer["${issuer}"]`, list);
  if (o.proxy !== undefined) {
    const problem = responderUrlProblem(o.proxy);
    if (problem) throw new InputError('proxy', problem);
  }
  const r = o.refresh ?? {};
  if (r.refreshFraction !== undefined && !(r.refreshFraction > 0 && r.refreshFraction < 1)) {
    throw new InputError('refresh.refreshFraction', `${String(r.refreshFraction)} is not valid: expected a fraction between 0 and 1`);
  }
  if (r.jitterFraction !== undefined && !(r.jitterFraction >= 0 && r.jitterFraction < 0.5)) {
    throw new InputError('refresh.jitterFraction', `${String(r.jitterFraction)} is not valid: expected 0 to 0.5`);
  }
  if (r.backoffJitter !== undefined && !(r.backoffJitter >= 0 && r.backoffJitter < 1)) {
    throw new InputError('refresh.backoffJitter', `${String(r.backoffJitter)} is not valid: expected 0 to 1`);
  }
  for (const key of ['minIntervalMs', 'backoffInitialMs', 'backoffMaxMs', 'triesBeforeExpiry', 'floorMs'] as const) positive(`refresh.${key}`, r[key]);
  if (r.backoffInitialMs !== undefined && r.backoffMaxMs !== undefined && r.backoffMaxMs < r.backoffInitialMs) {
    throw new InputError('refresh.backoffMaxMs', `${r.backoffMaxMs} is less than refresh.backoffInitialMs (${r.backoffInitialMs})`);
  }
}
