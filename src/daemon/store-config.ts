// The daemon's `store` key: the fleet's Redis as a URL, or a mapping of the library's
// RedisStoreOptions (Sentinel, Cluster, key prefix, TLS, timeouts, a password file). Files are
// read once, at start, with a size cap. No secret (password, TLS key) ever reaches an error, a log
// line or a JSON dump: the object serializes to its description only.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { describeValue } from '../engine/options.ts';
import { InputError } from '../ocsp/errors.ts';
import { isRedisUrl, resolveRedisOptions, type RedisNode, type RedisStoreOptions } from '../store/redis-options.ts';
import { describeFsError, formatBytes } from '../io/files.ts';

export interface DaemonRedisStore {
  /** What RedisStore takes, secrets included: pass it on, never log it. */
  readonly options: Omit<RedisStoreOptions, 'logger'>;
  /** For logs and --check-config: no secret in it. */
  readonly description: string;
}

const PASSWORD_FILE_LIMIT = 4 * 1024;
const TLS_FILE_LIMIT = 1024 * 1024;
const KNOWN = ['url', 'username', 'password', 'passwordFile', 'keyPrefix', 'tls', 'connectTimeoutMs', 'commandTimeoutMs', 'pollMs', 'sentinel', 'cluster'];
const TLS_KEYS = ['ca', 'cert', 'key', 'servername'];

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/** Read a small file synchronously (the configuration is checked in one pass), refusing more than `max` bytes. */
export function readSmallFile(path: string, max: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) throw new Error('is not a regular file');
    if (info.size > max) throw new Error(`is ${formatBytes(info.size)}, over the ${formatBytes(max)} limit`);
    const buf = Buffer.alloc(info.size);
    const n = readSync(fd, buf, 0, info.size, 0);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** "host:port" or "[IPv6]:port" → a node, or why not. */
function parseNode(v: unknown): RedisNode | string {
  if (typeof v !== 'string') return 'expected "HOST:PORT"';
  const m = /^(?:\[([^\]]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(v.trim());
  if (!m) return 'expected "HOST:PORT" (or "[IPv6]:PORT")';
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return `port ${port} is out of range 1-65535`;
  return { host: m[1] ?? m[2]!, port };
}

/**
 * Check `store` (a URL or a mapping) and read its files; relative paths are relative to
 * `baseDir`. Every problem goes to `errors`, named by key; returns undefined when there was one.
 */
export function daemonStoreConfig(value: unknown, baseDir: string, errors: InputError[]): DaemonRedisStore | undefined {
  const before = errors.length;
  const bad = (key: string, why: string): void => void errors.push(new InputError(`config key "${key}"`, why));
  const shown = (v: unknown): string =>
    typeof v === 'string' ? JSON.stringify(v.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]*):[^@/]*@/i, '$1:***@')) : describeValue(v);
  if (typeof value === 'string') {
    if (!isRedisUrl(value))
      bad('store', `${shown(value)} is not valid: expected a redis:// or rediss:// URL, or a mapping (url, sentinel, cluster, keyPrefix, tls...)`);
    return errors.length > before ? undefined : finish({ url: value }, bad);
  }
  if (!isMapping(value)) {
    bad('store', `${shown(value)} is not valid: expected a redis:// or rediss:// URL, or a mapping`);
    return undefined;
  }
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(baseDir, p));
  const file = (key: string, v: unknown, max: number): Buffer | undefined => {
    if (typeof v !== 'string' || v === '') return void bad(key, `${describeValue(v)} is not valid: expected a file path`);
    try {
      return readSmallFile(abs(v), max);
    } catch (err) {
      const why = err instanceof Error && !(err as { code?: string }).code ? err.message : describeFsError(err);
      return void bad(key, `cannot read ${abs(v)}: ${why}`);
    }
  };
  const text = (key: string, v: unknown): string | undefined =>
    typeof v === 'string' && v.trim() !== '' ? v : void bad(key, `${describeValue(v)} is not valid: expected a non-empty string`);
  const ms = (key: string, v: unknown, max: number): number | undefined =>
    typeof v === 'number' && Number.isFinite(v) && v >= 1 && v <= max
      ? v
      : void bad(key, `${describeValue(v)} is not valid: expected a number from 1 to ${max}`);
  const nodes = (key: string, v: unknown): RedisNode[] | undefined => {
    const items = typeof v === 'string' ? [v] : v;
    if (!Array.isArray(items) || items.length === 0) return void bad(key, `${describeValue(v)} is not valid: expected a list of "HOST:PORT"`);
    const out = items.map((item, i) => {
      const node = parseNode(item);
      if (typeof node === 'string') bad(`${key}[${i}]`, `${describeValue(item)} is not valid: ${node}`);
      return node;
    });
    return out.every((n) => typeof n !== 'string') ? out : undefined;
  };
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const key = `store.${k}`;
    if (!KNOWN.includes(k)) bad(key, `is not a known key (known here: ${KNOWN.join(', ')})`);
    else if (v === null || v === undefined) continue;
    else if (k === 'url') {
      if (typeof v !== 'string' || !isRedisUrl(v)) bad(key, `${shown(v)} is not valid: expected a redis:// or rediss:// URL`);
      else o.url = v;
    } else if (k === 'password') {
      // Never shown back, even when it is the wrong type.
      if (typeof v !== 'string' || v === '') bad(key, 'is not valid: expected a non-empty string (the value is not shown)');
      else o.password = v;
    } else if (k === 'passwordFile') {
      const secret = file(key, v, PASSWORD_FILE_LIMIT)
        ?.toString('utf8')
        .replace(/\r?\n$/, '');
      if (secret === '') bad(key, `${typeof v === 'string' ? abs(v) : ''} is empty`);
      else if (secret !== undefined) o.password = secret;
    } else if (k === 'username' || k === 'keyPrefix') {
      o[k] = text(key, v);
    } else if (k === 'connectTimeoutMs' || k === 'commandTimeoutMs') {
      o[k] = ms(key, v, 60_000);
    } else if (k === 'pollMs') {
      o[k] = ms(key, v, 3_600_000);
    } else if (k === 'tls') o.tls = tlsOf(key, v, bad, file);
    else if (k === 'cluster' || k === 'sentinel') {
      if (!isMapping(v)) {
        bad(key, `${describeValue(v)} is not valid: expected a mapping (${k === 'sentinel' ? 'name, nodes' : 'nodes'})`);
        continue;
      }
      for (const extra of Object.keys(v).filter((x) => x !== 'nodes' && !(k === 'sentinel' && x === 'name')))
        bad(`${key}.${extra}`, `is not a known key (known here: ${k === 'sentinel' ? 'name, nodes' : 'nodes'})`);
      const list = hasOwn(v, 'nodes') ? nodes(`${key}.nodes`, v.nodes) : void bad(`${key}.nodes`, 'is required: a list of "HOST:PORT"');
      const name = k === 'sentinel' ? (hasOwn(v, 'name') ? text(`${key}.name`, v.name) : void bad(`${key}.name`, 'is required: the name of the master')) : '';
      if (list && name !== undefined) o[k] = k === 'sentinel' ? { name, nodes: list } : { nodes: list };
    }
  }
  if (hasOwn(value, 'password') && hasOwn(value, 'passwordFile')) bad('store.passwordFile', 'and store.password are both given: choose one');
  return errors.length > before ? undefined : finish(o, bad);
}

function tlsOf(key: string, v: unknown, bad: (key: string, why: string) => void, file: (key: string, v: unknown, max: number) => Buffer | undefined): unknown {
  if (v === true || v === false) return v;
  if (!isMapping(v)) return void bad(key, `${describeValue(v)} is not valid: expected true, or a mapping (${TLS_KEYS.join(', ')})`);
  const tls: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (!TLS_KEYS.includes(k)) bad(`${key}.${k}`, `is not a known key (known here: ${TLS_KEYS.join(', ')})`);
    else if (k === 'servername') {
      if (typeof x === 'string' && x !== '') tls.servername = x;
      else bad(`${key}.${k}`, `${describeValue(x)} is not valid: expected a host name`);
    } else tls[k] = file(`${key}.${k}`, x, TLS_FILE_LIMIT);
  }
  if (hasOwn(v, 'cert') !== hasOwn(v, 'key'))
    bad(`${key}.${hasOwn(v, 'cert') ? 'key' : 'cert'}`, 'is required with a client certificate: give both cert and key');
  return tls;
}

/** The library's own checks (prefix, both Sentinel and Cluster, database...), and the safe description. */
function finish(options: RedisStoreOptions, bad: (key: string, why: string) => void): DaemonRedisStore | undefined {
  try {
    const description = resolveRedisOptions(options).description;
    const store: DaemonRedisStore = { options, description };
    // JSON (configChanges, any dump) sees the description only; the secrets stay in memory.
    Object.defineProperty(store, 'toJSON', { value: () => ({ description }), enumerable: false });
    return store;
  } catch (err) {
    bad('store', (err as Error).message.replace(/^redis store: /, ''));
    return undefined;
  }
}

/** Whether two stores differ, secrets included (compared in memory, never written anywhere). */
export function sameStore(a: DaemonRedisStore | null, b: DaemonRedisStore | null): boolean {
  return a === null || b === null ? a === b : JSON.stringify(a.options) === JSON.stringify(b.options);
}
