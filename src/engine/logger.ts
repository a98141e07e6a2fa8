// The logger the engine writes to: any pino-compatible logger (pino itself by default).

import { pino } from 'pino';
import { InputError } from '../ocsp/errors.ts';

type LogFn = (fields: Record<string, unknown>, message: string) => void;

/** The logging interface Stapler writes to (pino-compatible: an object of fields, then a message). */
export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

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

/** pino at `level`, with ISO 8601 times (as everywhere else in Stapler's output), to stdout or `destination`. */
export function pinoLogger(level: PinoLevel, destination?: { write(line: string): unknown }): Logger & { level: string } {
  const options = { name: 'stapler', level, timestamp: pino.stdTimeFunctions.isoTime };
  return destination ? pino(options, destination) : pino(options);
}

export function defaultLogger(): Logger {
  return pinoLogger(logLevelFromEnv());
}

export const silentLogger: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
