// Parsing and checking the CLI's option values; each bad value names the option and the reason.

import { InputError } from '../ocsp/errors.ts';
import type { VerifySettings } from '../ocsp/verify.ts';

export interface VerifyFlags {
  skew?: string;
  maxAge?: string;
  allowSha1?: boolean;
}

export function parseTime(value: string, option: string): number {
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value)) {
    throw new InputError(option, `"${value}" is not an ISO 8601 time such as 2026-11-21T12:00:00Z`);
  }
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new InputError(option, `"${value}" is not a valid time`);
  return t;
}

/** A duration in seconds within [min, max]. */
export function parseSeconds(value: string, option: string, min: number, max: number): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    throw new InputError(option, `"${value}" must be a number of seconds from ${min} to ${max}`);
  }
  return n;
}

export function verifySettingsFrom(flags: VerifyFlags): Partial<VerifySettings> {
  const settings: { -readonly [K in keyof VerifySettings]?: VerifySettings[K] } = {};
  if (flags.skew !== undefined) settings.skewMs = parseSeconds(flags.skew, '--skew', 0, 86_400) * 1000;
  if (flags.maxAge !== undefined) settings.maxAgeWithoutNextUpdateMs = parseSeconds(flags.maxAge, '--max-age', 1, 30 * 86_400) * 1000;
  if (flags.allowSha1) settings.allowSha1Signatures = true;
  return settings;
}
