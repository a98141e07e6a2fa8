// The logger the engine writes to: any pino-compatible logger (pino itself by default).

import { pino } from 'pino';
import { logLevelFromEnv, type PinoLevel } from './log-level.ts';

type LogFn = (fields: Record<string, unknown>, message: string) => void;

/** The logging interface Stapler writes to (pino-compatible: an object of fields, then a message). */
export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

export { logLevelFromEnv, PINO_LEVELS, type PinoLevel } from './log-level.ts';

/** pino at `level`, with ISO 8601 times (as everywhere else in Stapler's output), to stdout or `destination`. */
export function pinoLogger(level: PinoLevel, destination?: { write(line: string): unknown }): Logger & { level: string } {
  const options = { name: 'stapler', level, timestamp: pino.stdTimeFunctions.isoTime };
  return destination ? pino(options, destination) : pino(options);
}

export function defaultLogger(): Logger {
  return pinoLogger(logLevelFromEnv());
}

export const silentLogger: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
