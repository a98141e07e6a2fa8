// The logger the engine writes to: any pino-compatible logger (pino itself by default).

import { pino } from 'pino';

type LogFn = (fields: Record<string, unknown>, message: string) => void;

export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

export function defaultLogger(): Logger {
  return pino({ name: 'stapler', level: process.env.STAPLER_LOG_LEVEL ?? 'info' });
}

export const silentLogger: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
