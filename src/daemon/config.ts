// The daemon's configuration: a YAML file (or flags), checked before anything starts. Every
// problem names the key, the value and what was expected. The engine's tunables use the same
// names as the library's options.

import { isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { validateOptions } from '../engine/options.ts';
import type { StaplerOptions } from '../engine/types.ts';
import { InputError } from '../ocsp/errors.ts';

export interface DaemonConfig {
  /** Globs of certificate files (PEM, leaf first; a private key in the same file is fine). */
  readonly certificates: readonly string[];
  /** An issuer certificate for files whose chain lacks it. */
  readonly issuer: string | null;
  /** Where each staple goes: {cert} is the certificate file's path, {dir} its folder, {name} its name without extension. */
  readonly stapleFile: string;
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
  /** How often certificate files are looked at for changes. */
  readonly rescanMs: number;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** The engine's tunables. */
  readonly engine: Omit<StaplerOptions, 'store' | 'logger' | 'clock' | 'fetcher' | 'random'>;
}

export const DEFAULT_STATE_FILE = '/var/lib/stapler/state.json';
export const DEFAULT_STORE_DIR = '/var/lib/stapler/staples';

type Checker = (value: unknown, key: string) => unknown;

const describeValue = (v: unknown): string => (typeof v === 'string' ? `"${v}"` : JSON.stringify(v) ?? String(v));
const problem = (key: string, value: unknown, expected: string): InputError => new InputError(`config key "${key}"`, `${describeValue(value)} is not valid: expected ${expected}`);

const str: Checker = (v, key) => {
  if (typeof v !== 'string' || v.trim() === '') throw problem(key, v, 'a non-empty string');
  return v;
};
const bool: Checker = (v, key) => {
  if (typeof v !== 'boolean') throw problem(key, v, 'true or false');
  return v;
};
const num =
  (min: number, max: number, integer = false): Checker =>
  (v, key) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
      throw problem(key, v, `${integer ? 'a whole number' : 'a number'} from ${min} to ${max}`);
    }
    return v;
  };
const oneOf =
  (...options: string[]): Checker =>
  (v, key) => {
    if (typeof v !== 'string' || !options.includes(v)) throw problem(key, v, `one of ${options.join(', ')}`);
    return v;
  };
const list =
  (item: Checker): Checker =>
  (v, key) => {
    const items = typeof v === 'string' ? [v] : v;
    if (!Array.isArray(items) || items.length === 0) throw problem(key, v, 'a list (or a single value)');
    return items.map((x, i) => item(x, `${key}[${i}]`));
  };
const map =
  (value: Checker): Checker =>
  (v, key) => {
    if (!isPlainObject(v)) throw problem(key, v, 'a mapping');
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, value(x, `${key}["${k}"]`)]));
  };
const section =
  (fields: Record<string, Checker>): Checker =>
  (v, key) => {
    if (!isPlainObject(v)) throw problem(key, v, 'a mapping');
    return checkFields(v, fields, `${key}.`);
  };

const DAY = 86_400_000;
const ms = num(1, 30 * DAY);

const FIELDS: Record<string, Checker> = {
  certificates: list(str),
  issuer: str,
  stapleFile: str,
  nginxInclude: str,
  reload: section({ command: str, debounceMs: num(0, 600_000) }),
  haproxy: section({ socket: str, timeoutMs: num(100, 60_000) }),
  stateFile: str,
  storeDir: str,
  rescanMs: num(100, DAY),
  logLevel: oneOf('debug', 'info', 'warn', 'error'),
  // The engine's tunables, named as in the library.
  timeoutMs: ms,
  deadlineMs: ms,
  responderUrls: list(str),
  responderUrlsByIssuer: map(list(str)),
  proxy: str,
  refresh: section({
    refreshFraction: num(0, 1),
    minIntervalMs: ms,
    jitterFraction: num(0, 0.5),
    backoffInitialMs: ms,
    backoffMaxMs: ms,
    backoffJitter: num(0, 1),
    triesBeforeExpiry: num(1, 100, true),
    floorMs: ms,
  }),
  skewMs: num(0, DAY),
  maxAgeWithoutNextUpdateMs: ms,
  maxResponseBytes: num(1024, 16 * 1024 * 1024, true),
  allowSha1Signatures: bool,
  hash: oneOf('sha1', 'sha256', 'sha384', 'sha512'),
  concurrency: num(1, 1024, true),
  leaseTtlMs: ms,
};

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkFields(obj: Record<string, unknown>, fields: Record<string, Checker>, prefix: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    const checker = fields[k];
    if (!checker) throw new InputError(`config key "${prefix}${k}"`, `is not a known key (known here: ${Object.keys(fields).join(', ')})`);
    if (v === null || v === undefined) continue;
    out[k] = checker(v, `${prefix}${k}`);
  }
  return out;
}

/** Parse and check a YAML configuration; `label` names the file in errors. Relative paths are relative to `baseDir`. */
export function parseConfig(text: string, label: string, baseDir: string): DaemonConfig {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const where = e.linePos?.[0] ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}: ` : '';
    throw new InputError(label, `${where}${e.message.split('\n')[0]}`);
  }
  const raw: unknown = doc.toJS();
  if (!isPlainObject(raw)) throw new InputError(label, 'expected a mapping of settings at the top level');
  return buildConfig(raw, baseDir);
}

/** Check settings given as an object (from YAML or from flags) and fill in the defaults. */
export function buildConfig(raw: Record<string, unknown>, baseDir: string): DaemonConfig {
  const c = checkFields(raw, FIELDS, '');
  if (!c.certificates) throw new InputError('config key "certificates"', 'is required: a list of certificate file globs');
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(baseDir, p));
  const engineKeys = ['timeoutMs', 'deadlineMs', 'responderUrls', 'responderUrlsByIssuer', 'proxy', 'refresh', 'skewMs', 'maxAgeWithoutNextUpdateMs', 'maxResponseBytes', 'allowSha1Signatures', 'hash', 'concurrency', 'leaseTtlMs'];
  const engine = Object.fromEntries(engineKeys.filter((k) => c[k] !== undefined).map((k) => [k, c[k]])) as DaemonConfig['engine'];
  try {
    validateOptions(engine);
  } catch (err) {
    if (err instanceof InputError) throw new InputError(`config key "${err.item}"`, err.reason);
    throw err;
  }
  const reload = c.reload as { command?: string; debounceMs?: number } | undefined;
  if (reload && !reload.command) throw new InputError('config key "reload.command"', 'is required when reload is given');
  const haproxy = c.haproxy as { socket?: string; timeoutMs?: number } | undefined;
  if (haproxy && !haproxy.socket) throw new InputError('config key "haproxy.socket"', 'is required when haproxy is given');
  const stapleFile = (c.stapleFile as string | undefined) ?? '{cert}.ocsp';
  if (!stapleFile.includes('{')) throw new InputError('config key "stapleFile"', `"${stapleFile}" is not valid: expected a template with {cert}, {dir} or {name}, so that each certificate gets its own file`);
  return {
    certificates: (c.certificates as string[]).map(abs),
    issuer: c.issuer ? abs(c.issuer as string) : null,
    stapleFile,
    nginxInclude: (c.nginxInclude as string | undefined) ?? null,
    reload: reload ? { command: reload.command!, debounceMs: reload.debounceMs ?? 2_000 } : null,
    haproxy: haproxy ? { socket: haproxy.socket!, timeoutMs: haproxy.timeoutMs ?? 5_000 } : null,
    stateFile: abs((c.stateFile as string | undefined) ?? DEFAULT_STATE_FILE),
    storeDir: abs((c.storeDir as string | undefined) ?? DEFAULT_STORE_DIR),
    rescanMs: (c.rescanMs as number | undefined) ?? 10_000,
    logLevel: (c.logLevel as DaemonConfig['logLevel'] | undefined) ?? 'info',
    engine,
  };
}

/** A staple (or nginx include) path for a certificate file, from a template. */
export function expandTemplate(template: string, certFile: string): string {
  const dir = certFile.slice(0, certFile.lastIndexOf('/')) || '/';
  const base = certFile.slice(certFile.lastIndexOf('/') + 1);
  const name = base.includes('.') ? base.slice(0, base.lastIndexOf('.')) : base;
  return template.replaceAll('{cert}', certFile).replaceAll('{dir}', dir).replaceAll('{name}', name);
}
