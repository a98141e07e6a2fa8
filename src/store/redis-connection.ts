// One connection (a single node, a Sentinel-managed master, or a Cluster) as the store needs it:
// commands that fail fast (bounded command timeout, no offline queue, a bounded queue), and one
// log line when Redis becomes unreachable and one when it is back, never one per operation.

import type * as Redis from 'redis';
import type { RedisClientOptions } from 'redis';
import { requireOptional } from '../io/optional-package.ts';
import type { ResolvedRedisOptions, StoreLogger } from './redis-options.ts';
import { StoreError, StoreTimeout } from './store-files.ts';

export type RedisArg = string | Buffer;

/** What the store uses of a node-redis client, cluster or sentinel: one shape for the three. */
interface Backend {
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  on(event: 'error' | 'ready' | 'reconnecting', listener: (err?: unknown) => void): unknown;
  send(key: string | undefined, args: readonly RedisArg[]): Promise<unknown>;
  subscribe(channel: string, listener: (message: string) => void): Promise<unknown>;
  duplicate(): Backend;
  close(): Promise<void>;
  destroy(): void;
}

/** Commands in flight or waiting beyond this fail at once instead of piling up. */
const MAX_QUEUE = 10_000;
/** Reconnect attempts back off up to this. */
const MAX_RECONNECT_DELAY_MS = 2_000;

/** `work`, or a StoreTimeout after `ms`. */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreTimeout(`${what}: no answer from redis within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

function message(err: unknown): string {
  return err instanceof Error ? err.message || err.name : String(err);
}

export class RedisConnection {
  private readonly backend: Backend;
  private readonly log: StoreLogger;
  private readonly recoveredListeners = new Set<() => void>();
  private firstConnect: Promise<void> | null = null;
  /** null until the first connection attempt ends. */
  private up: boolean | null = null;
  private lastError = 'not connected yet';
  private closed = false;
  /** The connection is open but Redis answers nothing (kill -STOP): calls fail at once but one probe. */
  private hung = false;
  private probing = false;
  /** While hung, one probe per command timeout at most: callers in a row must not each wait for one. */
  private nextProbeAt = 0;
  private lastAnswerAt = 0;

  constructor(
    private readonly o: ResolvedRedisOptions,
    logger: StoreLogger | undefined,
  ) {
    this.log = logger ?? { info: () => undefined, warn: () => undefined };
    this.backend = makeBackend(o);
    this.backend.on('error', (err) => this.down(err));
    this.backend.on('ready', () => this.ready());
    // A lost connection, or (Sentinel) a new master: either way, what was published meanwhile is
    // lost, and a promoted replica may hold older data, so the next 'ready' counts as a recovery.
    this.backend.on('reconnecting', () => this.down(new Error('reconnecting (the connection was lost, or Sentinel named a new master)'), true));
  }

  get description(): string {
    return this.o.description;
  }

  /** `keepCause`: an earlier error already says why (a reconnect follows it). */
  private down(err: unknown, keepCause = false): void {
    if (!(keepCause && this.up === false)) this.lastError = message(err);
    if (this.up === false || this.closed) return;
    this.up = false;
    this.log.warn(
      { store: this.o.description, err: this.lastError },
      'redis is unreachable: staples are served from memory (and the local directory, if tiered), and fetches go on without a shared lease',
    );
  }

  private ready(): void {
    this.hung = false;
    if (this.up === true) return;
    const wasDown = this.up === false;
    this.up = true;
    if (!wasDown) return;
    this.log.info({ store: this.o.description }, 'redis is reachable again');
    for (const listener of this.recoveredListeners) listener();
  }

  /** Called after a reconnect that follows an outage (what was published meanwhile was lost). */
  onRecovered(listener: () => void): () => void {
    this.recoveredListeners.add(listener);
    return () => this.recoveredListeners.delete(listener);
  }

  /** Wait for the first connection (bounded); afterwards, fail at once while disconnected. */
  private async connected(): Promise<void> {
    if (this.closed) throw new StoreError(`${this.o.description}: the store is closed`);
    if (this.backend.isReady) return;
    if (this.firstConnect === null) {
      this.firstConnect = this.backend.connect().then(
        () => undefined,
        (err: unknown) => this.down(err),
      );
    }
    if (this.up === null) await withDeadline(this.firstConnect, this.o.connectTimeoutMs, `${this.o.description}: could not connect`).catch(() => undefined);
    if (!this.backend.isReady) throw new StoreError(`${this.o.description}: not connected: ${this.lastError}`);
  }

  /** Start connecting now (a store that is only watched must still connect). */
  start(): void {
    void this.connected().catch(() => undefined);
  }

  /**
   * Run one command; `key` routes it in a Cluster. Fails within the command timeout, and at once
   * while Redis is hung (an open connection with no answer for a whole command timeout, as under
   * kill -STOP): then one command per command timeout goes through as a probe, and its answer ends
   * the outage.
   */
  async send(what: string, key: string | undefined, args: readonly RedisArg[]): Promise<unknown> {
    await this.connected();
    let probe = false;
    if (this.hung) {
      if (this.probing || Date.now() < this.nextProbeAt)
        throw new StoreTimeout(`${this.o.description}: could not ${what}: redis is not answering (${this.lastError})`);
      this.probing = probe = true;
    }
    const sentAt = Date.now();
    try {
      const reply = await withDeadline(this.backend.send(key, args), this.o.commandTimeoutMs + 100, `${this.o.description}: could not ${what}`);
      this.answered();
      return reply;
    } catch (err) {
      const text = message(err);
      const timedOut = err instanceof StoreTimeout || /timeout/i.test(text);
      // A host starved of CPU has slow answers, not none: only no answer at all while this command waited is a hang.
      if (timedOut && this.backend.isReady && this.lastAnswerAt <= sentAt) this.stalled(text);
      if (err instanceof StoreError) throw err;
      const Kind = timedOut ? StoreTimeout : StoreError;
      throw new Kind(`${this.o.description}: could not ${what}: ${text}`, { cause: err });
    } finally {
      if (probe) this.probing = false;
    }
  }

  private answered(): void {
    this.lastAnswerAt = Date.now();
    if (this.hung) this.hung = false;
    // An outage seen without a reconnect (a hang, a failed ping) ends with the first answer.
    if (this.up === false && this.backend.isReady) this.ready();
  }

  private stalled(text: string): void {
    this.hung = true;
    this.nextProbeAt = Date.now() + this.o.commandTimeoutMs;
    this.down(new Error(`no answer within ${this.o.commandTimeoutMs} ms: ${text}`));
  }

  /** Subscribe on a connection of its own (a subscribed connection can run nothing else). */
  async subscribe(channel: string, listener: (message: string) => void): Promise<() => Promise<void>> {
    const sub = this.backend.duplicate();
    sub.on('error', () => undefined); // the main connection reports the state
    // A feed connection that failed must not live on: node-redis reconnects a dropped one, and
    // finishes a connect that was pending when it was destroyed (then pings for ever), so one that
    // becomes ready again is destroyed again.
    const discard = (err: unknown): never => {
      sub.destroy();
      sub.on('ready', () => sub.destroy());
      throw err;
    };
    await withDeadline(sub.connect(), this.o.connectTimeoutMs, `${this.o.description}: could not connect the change feed`).catch(discard);
    // Redis may go away between the connect and the SUBSCRIBE.
    await sub.subscribe(channel, listener).catch(discard);
    return async () => {
      if (!sub.isReady) return sub.destroy();
      await withDeadline(sub.close(), this.o.commandTimeoutMs + 100, 'close').catch(() => sub.destroy());
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.recoveredListeners.clear();
    if (this.firstConnect === null) return;
    if (!this.backend.isReady) {
      this.backend.destroy(); // stops the reconnect attempts
      return;
    }
    // close() waits for replies to commands in flight; a hung Redis would make it wait forever.
    await withDeadline(this.backend.close(), this.o.commandTimeoutMs + 100, 'close').catch(() => this.backend.destroy());
  }
}

function clientOptions(o: ResolvedRedisOptions): RedisClientOptions {
  return {
    ...(o.username !== undefined ? { username: o.username } : {}),
    ...(o.password !== undefined ? { password: o.password } : {}),
    database: o.database,
    disableOfflineQueue: true,
    commandsQueueMaxLength: MAX_QUEUE,
    // A Redis that stops answering (kill -STOP) keeps its socket open: pings find it out.
    pingInterval: 5_000,
    socket: {
      host: o.node.host,
      port: o.node.port,
      connectTimeout: o.connectTimeoutMs,
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, MAX_RECONNECT_DELAY_MS),
      ...(o.tls ? { tls: true as const, ...o.tls } : {}),
    },
  };
}

/** node-redis, loaded on the first connection (it is an optional dependency). */
export function redisPackage(): typeof Redis {
  return requireOptional<typeof Redis>('redis', 'RedisStore');
}

function makeBackend(o: ResolvedRedisOptions): Backend {
  const { createClient, createCluster, createSentinel, RESP_TYPES } = redisPackage();
  const commandOptions = { timeout: o.commandTimeoutMs, typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } as const };
  if (o.cluster) {
    const base = clientOptions(o);
    const cluster = createCluster({
      rootNodes: o.cluster.map((n) => ({ socket: { host: n.host, port: n.port } })),
      defaults: { ...base, socket: { ...base.socket, host: undefined, port: undefined } },
      commandOptions,
    });
    const wrap = (c: typeof cluster): Backend => ({
      get isReady() {
        return c.isReady;
      },
      connect: () => c.connect(),
      on: (event, listener) => c.on(event, listener),
      send: (key, args) => c.sendCommand(key, false, [...args], commandOptions),
      subscribe: (channel, listener) => c.subscribe(channel, listener),
      duplicate: () => wrap(c.duplicate()),
      close: () => c.close(),
      destroy: () => c.destroy(),
    });
    return wrap(cluster);
  }
  if (o.sentinel) {
    const sentinel = createSentinel({
      name: o.sentinel.name,
      sentinelRootNodes: o.sentinel.nodes.map((n) => ({ host: n.host, port: n.port })),
      nodeClientOptions: clientOptions(o),
      commandOptions,
    });
    const wrap = (s: typeof sentinel): Backend => ({
      get isReady() {
        return s.isReady;
      },
      connect: () => s.connect(),
      on: (event, listener) => s.on(event, listener),
      send: (_key, args) => s.sendCommand(false, [...args], commandOptions),
      subscribe: (channel, listener) => s.subscribe(channel, listener),
      duplicate: () => wrap(s.duplicate()),
      close: () => s.close(),
      destroy: () => void s.destroy(),
    });
    return wrap(sentinel);
  }
  const client = createClient({ ...clientOptions(o), commandOptions });
  const wrap = (c: typeof client): Backend => ({
    get isReady() {
      return c.isReady;
    },
    connect: () => c.connect(),
    on: (event, listener) => c.on(event, listener),
    send: (_key, args) => c.sendCommand([...args], commandOptions),
    subscribe: (channel, listener) => c.subscribe(channel, listener),
    duplicate: () => wrap(c.duplicate()),
    close: () => c.close(),
    destroy: () => c.destroy(),
  });
  return wrap(client);
}
