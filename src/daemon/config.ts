// The daemon's configuration: a YAML file (or flags), checked before anything starts. Every
// problem names the key, the value and what was expected, and every problem is reported, not
// only the first. The engine's tunables use the library's names, and are checked against the
// library's own option table (src/engine/options.ts).

import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { PINO_LEVELS, type PinoLevel } from '../engine/logger.ts';
import { combinedError, describeValue, OPTION_KEYS, OPTION_SCHEMA, optionProblems } from '../engine/options.ts';
import type { EngineSettings } from '../engine/types.ts';
import { InputError } from '../ocsp/errors.ts';
import { defaultStateDir } from './paths.ts';
import { daemonStoreConfig, sameStore, type DaemonRedisStore } from './store-config.ts';
import { parseListenAddress, type ListenAddress } from './http/listen-address.ts';
import { HOOK_EVENTS, hooksOf, type HooksConfig } from './alerts/hook-config.ts';
import { probeConfig, type ProbeConfig } from './probe-config.ts';
import { outputTemplates } from './output-config.ts';

export { expandTemplate } from './template.ts';

export interface DaemonConfig {
  /** Globs of certificate files (PEM, leaf first; a private key in the same file is fine). */
  readonly certificates: readonly string[];
  /** An issuer certificate for files whose chain lacks it. */
  readonly issuer: string | null;
  /** Where each staple goes: {cert} is the certificate file's path, {dir} its folder, {name} its name without extension; null (`stapleFile: false`): no files, the responder only. */
  readonly stapleFile: string | null;
  /** An nginx include to write beside each staple: it turns ssl_stapling on with the file, or off without one. */
  readonly nginxInclude: string | null;
  /** A command to run after staple files change (debounced), e.g. "nginx -s reload". */
  readonly reload: { readonly command: string; readonly debounceMs: number } | null;
  /** Push staples through HAProxy's runtime API (no reload). */
  readonly haproxy: { readonly socket: string; readonly timeoutMs: number } | null;
  /** The daemon's state, for `stapler status`. */
  readonly stateFile: string;
  /** The engine's store directory. */
  readonly storeDir: string;
  /** The Redis a fleet shares staples through (over the local `storeDir`), or null: a URL or the library's options, files read. */
  readonly store: DaemonRedisStore | null;
  /** Where the HTTP listener (OCSP responder, metrics, status) binds, or null for none. */
  readonly listen: ListenAddress | null;
  /** How often certificate files are looked at for changes. */
  readonly rescanMs: number;
  readonly logLevel: LogLevel;
  /** Log lines as JSON, or pretty for people; null: pretty when stdout is a terminal. */
  readonly logFormat: 'pretty' | 'json' | null;
  /** Commands and a webhook run on alerts (revoked, expired, failure streak, Must-Staple at risk), or null. */
  readonly hooks: HooksConfig | null;
  /** Per-certificate metric series: for problems and the `soonest` to lapse (default), or for all. */
  readonly metrics: { readonly perCertificate: 'problems' | 'all'; readonly soonest: number; readonly maxProblems: number };
  /** The stapling probe (/probe and targets on an interval), or null: off. */
  readonly probe: ProbeConfig | null;
  /** The engine's tunables. */
  readonly engine: EngineSettings;
}

/** pino's levels, as for STAPLER_LOG_LEVEL: the environment and the configuration take the same words. */
export const LOG_LEVELS = PINO_LEVELS;
export type LogLevel = PinoLevel;

/** The defaults follow one rule (see paths.ts), shared with `stapler status`. */
export const defaultStateFile = (): string => `${defaultStateDir()}/state.json`;
/** The store lives beside the state file: one `--state` (or `stateFile`) moves both. */
export const storeDirBeside = (stateFile: string): string => join(dirname(stateFile), 'staples');

/** YAML aliases allowed in one document: far more than any real configuration uses, far fewer than a "billion laughs". */
const MAX_ALIASES = 100;

type Checker = (value: unknown, key: string, errors: InputError[]) => unknown;

const problem = (key: string, value: unknown, expected: string): InputError =>
  new InputError(`config key "${key}"`, `${describeValue(value)} is not valid: expected ${expected}`);
const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

const str: Checker = (v, key, errors) => {
  if (typeof v === 'string' && v.trim() !== '') return v;
  errors.push(problem(key, v, 'a non-empty string'));
  return undefined;
};
const num =
  (min: number, max: number): Checker =>
  (v, key, errors) => {
    if (typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max) return v;
    errors.push(problem(key, v, `a number from ${min} to ${max}`));
    return undefined;
  };
const oneOf =
  (...options: readonly string[]): Checker =>
  (v, key, errors) => {
    if (typeof v === 'string' && options.includes(v)) return v;
    errors.push(problem(key, v, `one of ${options.join(', ')}`));
    return undefined;
  };
const list =
  (item: Checker): Checker =>
  (v, key, errors) => {
    const items = typeof v === 'string' ? [v] : v;
    if (!Array.isArray(items) || items.length === 0) {
      errors.push(problem(key, v, 'a list (or a single value)'));
      return undefined;
    }
    const out = items.map((x, i) => item(x, `${key}[${i}]`, errors));
    return out.every((x) => x !== undefined) ? out : undefined;
  };
const section =
  (fields: Readonly<Record<string, Checker>>): Checker =>
  (v, key, errors) => {
    if (!isPlainObject(v)) {
      errors.push(problem(key, v, 'a mapping'));
      return undefined;
    }
    return checkFields(v, fields, `${key}.`, errors);
  };
/** A template, or false: no staple files (a responder-only daemon). */
const stapleTemplate: Checker = (v, key, errors) => {
  if (v === false || (typeof v === 'string' && v.trim() !== '')) return v;
  errors.push(problem(key, v, 'a template such as "{cert}.ocsp", or false (no staple files: the responder only)'));
  return undefined;
};
/** An engine option: passed through as given; the option table checks it. */
const engineValue: Checker = (v) => v;
/** `responderUrls` may be one URL: the table wants a list. */
const oneOrMany: Checker = (v) => (typeof v === 'string' ? [v] : v);

/** "PORT" (on 127.0.0.1), "HOST:PORT" or "[IPv6]:PORT". */
const listenAddress: Checker = (v, key, errors) => {
  const parsed = typeof v === 'string' || typeof v === 'number' ? parseListenAddress(String(v)) : 'expected HOST:PORT, or PORT alone for 127.0.0.1';
  if (typeof parsed !== 'string') return parsed;
  errors.push(problem(key, v, `HOST:PORT, [IPv6]:PORT or PORT (${parsed})`));
  return undefined;
};

/** A command as argv: one program path, or a list (program, then arguments). Never a shell line. */
const argv: Checker = (v, key, errors) => {
  const items: unknown = typeof v === 'string' ? [v] : v;
  if (Array.isArray(items) && items.length > 0 && items.every((x) => typeof x === 'string' && x !== '' && !x.includes('\0'))) return items as string[];
  errors.push(problem(key, v, 'a program path, or a list of the program and its arguments (run without a shell)'));
  return undefined;
};

/** An http:// or https:// URL. */
const httpUrl: Checker = (v, key, errors) => {
  let url: URL | null;
  try {
    url = typeof v === 'string' ? new URL(v) : null;
  } catch {
    url = null;
  }
  if (url && (url.protocol === 'http:' || url.protocol === 'https:')) return v;
  errors.push(problem(key, v, 'an http:// or https:// URL'));
  return undefined;
};

const HOOK_FIELDS: Readonly<Record<string, Checker>> = {
  ...Object.fromEntries(HOOK_EVENTS.map((e) => [e, argv])),
  failureStreakThreshold: num(1, 1000),
  timeoutMs: num(100, 600_000),
  concurrency: num(1, 64),
  webhook: httpUrl,
};

const REFRESH_KEYS = OPTION_SCHEMA.filter((s) => s.key.startsWith('refresh.')).map((s) => s.key.slice('refresh.'.length));

const FIELDS: Readonly<Record<string, Checker>> = {
  certificates: list(str),
  issuer: str,
  stapleFile: stapleTemplate,
  nginxInclude: str,
  reload: section({ command: str, debounceMs: num(0, 600_000) }),
  haproxy: section({ socket: str, timeoutMs: num(100, 60_000) }),
  stateFile: str,
  storeDir: str,
  store: engineValue, // checked (and its files read) by daemonStoreConfig, which needs the base directory
  probe: engineValue, // checked (and its CA file read) by probeConfig, which needs the base directory
  listen: listenAddress,
  rescanMs: num(100, 86_400_000),
  logLevel: oneOf(...LOG_LEVELS),
  logFormat: oneOf('pretty', 'json'),
  hooks: section(HOOK_FIELDS),
  metrics: section({ perCertificate: oneOf('problems', 'all'), soonest: num(0, 100_000), maxProblems: num(0, 1_000_000) }),
  // The engine's tunables, named and bounded as in the library.
  ...Object.fromEntries(OPTION_KEYS.map((k) => [k, engineValue])),
  responderUrls: oneOrMany,
  refresh: section(Object.fromEntries(REFRESH_KEYS.map((k) => [k, engineValue]))),
};

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkFields(obj: Record<string, unknown>, fields: Readonly<Record<string, Checker>>, prefix: string, errors: InputError[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    // Own properties only: "__proto__" or "constructor" are unknown keys, not Object's.
    const checker = hasOwn(fields, k) ? fields[k] : undefined;
    if (!checker) {
      errors.push(new InputError(`config key "${prefix}${k}"`, `is not a known key (known here: ${Object.keys(fields).join(', ')})`));
      continue;
    }
    if (v === null || v === undefined) continue;
    const value = checker(v, `${prefix}${k}`, errors);
    if (value !== undefined) Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Parse and check a YAML configuration; `label` names the file in errors. Relative paths are relative to `baseDir`. */
export function parseConfig(text: string, label: string, baseDir: string): DaemonConfig {
  return buildConfig(parseYaml(text, label), baseDir);
}

/** The settings in a YAML document, unchecked; throws on syntax errors (all of them). */
export function parseYaml(text: string, label: string): Record<string, unknown> {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => {
      const where = e.linePos?.[0] ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}: ` : '';
      return new InputError(label, `${where}${e.message.split('\n')[0]}`);
    });
    throw combinedError(label, problems);
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err) {
    // The yaml library's only refusal here is an alias count that indicates a "billion laughs".
    throw new InputError(label, `refused: its aliases (*name) expand too much (at most ${MAX_ALIASES} expansions): ${(err as Error).message}`);
  }
  if (!isPlainObject(raw)) throw new InputError(label, 'expected a mapping of settings at the top level');
  return raw;
}

/** Check settings given as an object (from YAML or from flags) and fill in the defaults. Throws every problem at once. */
export function buildConfig(raw: Record<string, unknown>, baseDir: string): DaemonConfig {
  const errors: InputError[] = [];
  const c = checkFields(raw, FIELDS, '', errors);
  if (!hasOwn(raw, 'certificates') || raw.certificates === null)
    errors.push(new InputError('config key "certificates"', 'is required: a list of certificate file globs'));
  const engine = Object.fromEntries(OPTION_KEYS.filter((k) => c[k] !== undefined).map((k) => [k, c[k]]));
  errors.push(...optionProblems(engine, (k) => `config key "${k}"`));
  const reload = c.reload as { command?: string; debounceMs?: number } | undefined;
  if (reload && !reload.command) errors.push(new InputError('config key "reload.command"', 'is required when reload is given'));
  const haproxy = c.haproxy as { socket?: string; timeoutMs?: number } | undefined;
  if (haproxy && !haproxy.socket) errors.push(new InputError('config key "haproxy.socket"', 'is required when haproxy is given'));
  const { stapleFile, nginxInclude } = outputTemplates(c, { haproxy, reload }, errors);
  const store = c.store === undefined ? null : daemonStoreConfig(c.store, baseDir, errors);
  const probe = c.probe === undefined ? null : probeConfig(c.probe, baseDir, errors);
  if (errors.length > 0) throw combinedError('configuration', errors);
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(baseDir, p));
  const stateFile = abs((c.stateFile as string | undefined) ?? defaultStateFile());
  return {
    certificates: (c.certificates as string[]).map(abs),
    issuer: c.issuer ? abs(c.issuer as string) : null,
    stapleFile,
    nginxInclude,
    reload: reload ? { command: reload.command!, debounceMs: reload.debounceMs ?? 2_000 } : null,
    haproxy: haproxy ? { socket: haproxy.socket!, timeoutMs: haproxy.timeoutMs ?? 5_000 } : null,
    stateFile,
    storeDir: c.storeDir ? abs(c.storeDir as string) : storeDirBeside(stateFile),
    store: store ?? null,
    listen: (c.listen as ListenAddress | undefined) ?? null,
    rescanMs: (c.rescanMs as number | undefined) ?? 10_000,
    logLevel: (c.logLevel as LogLevel | undefined) ?? 'info',
    logFormat: (c.logFormat as 'pretty' | 'json' | undefined) ?? null,
    hooks: c.hooks ? hooksOf(c.hooks as Record<string, unknown>) : null,
    metrics: { perCertificate: 'problems', soonest: 100, maxProblems: 1_000, ...(c.metrics as Partial<DaemonConfig['metrics']> | undefined) },
    probe: probe ?? null,
    engine: engine,
  };
}

/** The settings that differ between two configurations ("engine.x" for the engine's). */
export function configChanges(a: DaemonConfig, b: DaemonConfig): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  const changed: string[] = [];
  for (const k of keys) {
    if (k === 'engine') {
      for (const e of new Set([...Object.keys(a.engine), ...Object.keys(b.engine)])) {
        if (JSON.stringify((a.engine as Record<string, unknown>)[e]) !== JSON.stringify((b.engine as Record<string, unknown>)[e])) changed.push(`engine.${e}`);
      }
    } else if (k === 'store') {
      if (!sameStore(a.store, b.store)) changed.push(k);
    } else if (JSON.stringify((a as unknown as Record<string, unknown>)[k]) !== JSON.stringify((b as unknown as Record<string, unknown>)[k])) changed.push(k);
  }
  return changed;
}
