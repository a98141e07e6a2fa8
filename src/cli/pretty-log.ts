// A small pretty printer for pino's JSON lines, used as pino's destination when a person reads
// the log (stdout is a terminal, or --log-format pretty): "12:34:56.789 WARN  message key=value".

import type { Writable } from 'node:stream';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };
const COLOURS: Record<number, string> = { 10: '90', 20: '90', 30: '32', 40: '33', 50: '31', 60: '35' };
/** Fields every line has: shown in the prefix, or not at all. */
const OMIT = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name']);

export function formatLine(line: string, colour: boolean): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const level = typeof entry.level === 'number' ? entry.level : 30;
  const time =
    typeof entry.time === 'string' ? entry.time.slice(11, 23) : typeof entry.time === 'number' ? new Date(entry.time).toISOString().slice(11, 23) : '';
  const name = LEVELS[level] ?? String(level);
  const tag = colour ? `\x1b[${COLOURS[level] ?? '0'}m${name}\x1b[0m` : name;
  const fields = Object.entries(entry)
    .filter(([k]) => !OMIT.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' && !/[\s"=]/.test(v) && v !== '' ? v : JSON.stringify(v)}`);
  return `${time} ${tag} ${typeof entry.msg === 'string' ? entry.msg : ''}${fields.length > 0 ? `  ${fields.join(' ')}` : ''}\n`;
}

/** A pino destination that writes pretty lines to `out` (colour when it is a terminal). */
export function prettyDestination(out: Writable & { isTTY?: boolean } = process.stdout): { write(line: string): boolean } {
  const colour = Boolean(out.isTTY) && !process.env.NO_COLOR;
  return { write: (line: string) => out.write(formatLine(line, colour)) };
}

/** The format to use: the one asked for, else pretty on a terminal and JSON otherwise. */
export function chooseLogFormat(asked: 'pretty' | 'json' | null | undefined, stdoutIsTty: boolean): 'pretty' | 'json' {
  return asked ?? (stdoutIsTty ? 'pretty' : 'json');
}
