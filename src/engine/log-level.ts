// The log levels, and the one STAPLER_LOG_LEVEL names: apart from logger.ts so that checking the
// variable (every CLI command does, before it runs) does not load pino.

import { InputError } from '../ocsp/errors.ts';

export const PINO_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type PinoLevel = (typeof PINO_LEVELS)[number];

/** The level named by STAPLER_LOG_LEVEL (default info); a value pino does not know is refused in one line. */
export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env): PinoLevel {
  const value = env.STAPLER_LOG_LEVEL;
  if (value === undefined || value === '') return 'info';
  if (!(PINO_LEVELS as readonly string[]).includes(value)) {
    throw new InputError('STAPLER_LOG_LEVEL', `${JSON.stringify(value)} is not valid: expected one of ${PINO_LEVELS.join(', ')}`);
  }
  return value as PinoLevel;
}
