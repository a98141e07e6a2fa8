// The Redis store's options: read from a `redis://` / `rediss://` URL and/or an object, checked
// up front with errors that name the option, and described for logs with no credential in it.

import type { ConnectionOptions } from 'node:tls';
import { StoreError } from './store-files.ts';

/** Where the store logs its connection state: any pino-compatible logger (the store is below the engine, so it names only what it calls). */
export interface StoreLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

/** A Redis host and port (a Sentinel or Cluster node). */
export interface RedisNode {
  readonly host: string;
  readonly port: number;
}

/** Options of RedisStore. */
export interface RedisStoreOptions {
  /** `redis://[user[:password]@]host[:port][/db]`, or `rediss://…` for TLS. Default redis://127.0.0.1:6379. */
  readonly url?: string;
  /** Override the URL's user and password (e.g. from a secret file). Never logged. */
  readonly username?: string;
  readonly password?: string;
  /** TLS: true, or Node's TLS options (ca, servername, cert, key…). `rediss://` implies true. */
  readonly tls?: boolean | ConnectionOptions;
  /** Prefix of every key and of the change channel (default "stapler:"): several fleets may share one Redis. */
  readonly keyPrefix?: string;
  /** How long a connection attempt may take (default 2 s). */
  readonly connectTimeoutMs?: number;
  /** How long one command may take before it fails (default 3 s): a hung Redis fails fast, and a host starved of CPU does not give up its lease for nothing. */
  readonly commandTimeoutMs?: number;
  /** How often to look for changes that pub/sub lost (default 30 s; one GET when nothing changed). */
  readonly pollMs?: number;
  /** A Redis Cluster: its seed nodes (the URL's host is then ignored; credentials and TLS still apply). */
  readonly cluster?: { readonly nodes: readonly RedisNode[] };
  /** Sentinel: the monitored master's name and the sentinels to ask for it. */
  readonly sentinel?: { readonly name: string; readonly nodes: readonly RedisNode[] };
  /** Where the store logs connection state changes (one line each way, never one per operation). */
  readonly logger?: StoreLogger;
}

export interface ResolvedRedisOptions {
  readonly node: RedisNode;
  readonly database: number;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly tls: ConnectionOptions | null;
  readonly keyPrefix: string;
  readonly connectTimeoutMs: number;
  readonly commandTimeoutMs: number;
  readonly pollMs: number;
  readonly cluster: readonly RedisNode[] | null;
  readonly sentinel: { readonly name: string; readonly nodes: readonly RedisNode[] } | null;
  /** For logs and status: the URL with its password replaced by "***". */
  readonly description: string;
}

export function isRedisUrl(value: string): boolean {
  return /^rediss?:\/\//i.test(value);
}

function fail(message: string): never {
  throw new StoreError(`redis store: ${message}`);
}

function positive(name: string, value: number | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0 || value > max) fail(`${name} must be a number of milliseconds in (0, ${max}], got ${String(value)}`);
  return value;
}

function checkNodes(what: string, nodes: readonly RedisNode[]): readonly RedisNode[] {
  const list: unknown = nodes; // from a config file, it may be anything
  if (!Array.isArray(list) || list.length === 0) fail(`${what} needs at least one node`);
  for (const n of nodes) {
    if (typeof n.host !== 'string' || n.host === '') fail(`${what}: a node has no host`);
    if (!Number.isInteger(n.port) || n.port < 1 || n.port > 65535) fail(`${what}: node ${n.host} has an invalid port ${String(n.port)}`);
  }
  return nodes;
}

/** Read and check the options; throws a StoreError naming the bad item (the URL is shown redacted). */
export function resolveRedisOptions(options: RedisStoreOptions): ResolvedRedisOptions {
  const raw = options.url ?? 'redis://127.0.0.1:6379';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    fail(`invalid URL "${redactUrl(raw)}"`);
  }
  const scheme = url.protocol.toLowerCase();
  if (scheme !== 'redis:' && scheme !== 'rediss:') fail(`URL "${redactUrl(raw)}" must start with redis:// or rediss://`);
  const port = url.port === '' ? 6379 : Number(url.port);
  const path = url.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d{1,2}$/.test(path)) fail(`URL "${redactUrl(raw)}": the path must be a database number, got "${path}"`);
  const database = path === '' ? 0 : Number(path);
  const username = options.username ?? (url.username !== '' ? decodeURIComponent(url.username) : undefined);
  const password = options.password ?? (url.password !== '' ? decodeURIComponent(url.password) : undefined);
  const tlsOption = options.tls ?? scheme === 'rediss:';
  const tls = tlsOption === false ? null : tlsOption === true ? {} : tlsOption;
  const keyPrefix = options.keyPrefix ?? 'stapler:';
  if (typeof keyPrefix !== 'string' || /[{}\s]/.test(keyPrefix) || keyPrefix.length > 100)
    fail(`keyPrefix must be at most 100 characters with no braces or spaces, got "${String(keyPrefix)}"`);
  const cluster = options.cluster ? checkNodes('cluster', options.cluster.nodes) : null;
  let sentinel: ResolvedRedisOptions['sentinel'] = null;
  if (options.sentinel) {
    if (typeof options.sentinel.name !== 'string' || options.sentinel.name === '') fail('sentinel needs the name of the master');
    sentinel = { name: options.sentinel.name, nodes: checkNodes('sentinel', options.sentinel.nodes) };
  }
  if (cluster && sentinel) fail('choose cluster or sentinel, not both');
  if (cluster && database !== 0) fail('a Redis Cluster has only database 0');
  const where = cluster
    ? `cluster ${cluster.map((n) => `${n.host}:${n.port}`).join(',')}`
    : sentinel
      ? `sentinel ${sentinel.name}@${sentinel.nodes.map((n) => `${n.host}:${n.port}`).join(',')}`
      : redactUrl(raw);
  return {
    node: { host: url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1', port },
    database,
    username,
    password,
    tls,
    keyPrefix,
    connectTimeoutMs: positive('connectTimeoutMs', options.connectTimeoutMs, 2_000, 60_000),
    commandTimeoutMs: positive('commandTimeoutMs', options.commandTimeoutMs, 3_000, 60_000),
    pollMs: positive('pollMs', options.pollMs, 30_000, 3_600_000),
    cluster,
    sentinel,
    description: `redis ${where} (prefix ${keyPrefix})`,
  };
}

/** The URL with its password (and nothing else) hidden: safe for logs. */
export function redactUrl(raw: string): string {
  return raw.replace(/^(rediss?:\/\/[^:@/]*):[^@/]*@/i, '$1:***@');
}
