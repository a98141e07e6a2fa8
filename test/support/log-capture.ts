// A logger for tests: it keeps every line for assertions, or prints them when DEBUG_LOG is set
// (to watch a test that fails).

import type { Logger } from '../../src/engine/logger.ts';

export interface LogLine {
  level: string;
  fields: Record<string, unknown>;
  message: string;
}

export function captureLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: string) => (fields: Record<string, unknown>, message: string) => {
    if (process.env.DEBUG_LOG) console.log(new Date().toISOString(), level, message, fields);
    lines.push({ level, fields, message });
  };
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}
