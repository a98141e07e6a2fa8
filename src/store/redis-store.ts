// Staples shared by a fleet through Redis. Each certificate has a hash (its DER and the DER's
// SHA-1, its version) that expires at the staple's nextUpdate, and a lease key; both carry the
// certificate's id as a hash tag, so that they share a Cluster slot and one script can touch both.
// Anyone with access to this Redis can write anything here: nothing read is trusted (the engine
// verifies every copy), and nothing read decides what a save may replace (see PUT_STAPLE).

import { createHash } from 'node:crypto';
import { RedisConnection, redisPackage } from './redis-connection.ts';
import { ChangeFeed, type FeedCounts, type FeedKeys } from './redis-feed.ts';
import { acquireLease } from './redis-lease.ts';
import { resolveRedisOptions, type RedisStoreOptions, type StoreLogger } from './redis-options.ts';
import { DELETE_AND_PUBLISH, LOAD_BOUNDED, PUT_STAPLE, runScript } from './redis-scripts.ts';
import { StoreError } from './store-files.ts';
import { keptUntil, oneCopy, type Lease, type StapleStore, type StoredCopies } from './store.ts';

const KEY_PATTERN = /^[0-9a-f]{64}$/;
/** A staple larger than this is neither saved nor read (responses are at most 64 KiB by default, 1 MiB at most). */
export const MAX_STAPLE_BYTES = 1024 * 1024;

const sha1 = (der: Buffer): string => createHash('sha1').update(der).digest('hex');

export type { RedisStoreOptions } from './redis-options.ts';

/** Staples shared by a fleet through Redis (single node, Sentinel or Cluster): one CA request per certificate per refresh between the hosts. */
export class RedisStore implements StapleStore {
  readonly description: string;
  private readonly conn: RedisConnection;
  private readonly keys: FeedKeys;
  private readonly feed: ChangeFeed;
  private readonly prefix: string;
  private readonly log: StoreLogger | undefined;
  /** Whether Redis refused the last save with an error reply (OOM, a script error): logged once each way. */
  private refusing = false;

  /** `options`: a redis:// or rediss:// URL, or the options (see RedisStoreOptions). */
  constructor(options: RedisStoreOptions | string = {}) {
    const o = resolveRedisOptions(typeof options === 'string' ? { url: options } : options);
    this.description = o.description;
    this.prefix = o.keyPrefix;
    this.log = typeof options === 'string' ? undefined : options.logger;
    this.conn = new RedisConnection(o, typeof options === 'string' ? undefined : options.logger);
    this.keys = {
      channel: `${o.keyPrefix}changes`,
      generation: `${o.keyPrefix}generation`,
      stapleKey: (key) => this.stapleKey(key),
      isKey: (key) => KEY_PATTERN.test(key),
    };
    this.feed = new ChangeFeed(this.conn, this.keys, o.pollMs, this.log);
  }

  private checked(key: string): string {
    if (!KEY_PATTERN.test(key)) throw new StoreError(`${this.description}: invalid store key "${key}"`);
    return key;
  }

  /** `<prefix>{<id>}:staple`: the braces make it share a Cluster slot with the lease. */
  stapleKey(key: string): string {
    return `${this.prefix}{${this.checked(key)}}:staple`;
  }

  leaseKey(key: string): string {
    return `${this.prefix}{${this.checked(key)}}:lease`;
  }

  async load(key: string): Promise<Buffer | null> {
    const name = this.stapleKey(key);
    const reply = await runScript(this.conn, `load ${name}`, LOAD_BOUNDED, [name], [String(MAX_STAPLE_BYTES)]).catch((err: unknown) => {
      // Redis is down: the key is still ours to look at again once it is back.
      this.feed.track(key);
      throw err;
    });
    if (reply === -1) throw new StoreError(`${this.description}: could not load ${name}: it is larger than ${MAX_STAPLE_BYTES} bytes`);
    if (reply === -2) throw new StoreError(`${this.description}: could not load ${name}: it is not a hash (not a staple written by stapler)`);
    const [der, version] = Array.isArray(reply) ? (reply as unknown[]) : [reply === null || reply === undefined ? null : reply, null];
    if (der === null || der === undefined) {
      this.feed.remember(key, null);
      return null;
    }
    if (!Buffer.isBuffer(der)) throw new StoreError(`${this.description}: could not load ${name}: unexpected reply from redis`);
    this.feed.remember(key, Buffer.isBuffer(version) ? version.toString() : Number.NaN);
    return der;
  }

  /** The one copy, and a settle that replaces it only if Redis still holds what was read. */
  async loadCopies(key: string): Promise<StoredCopies> {
    const read = await this.load(key);
    return oneCopy(read, (chosen, expiresAt) => this.put(key, chosen, expiresAt, read ? sha1(read) : ''));
  }

  /**
   * Saved whatever Redis holds: the engine saves only a staple it verified and found newer than
   * what it holds, and a host that holds a newer one puts it back when it next loads (settle).
   * No field of the stored hash can refuse a save.
   */
  async save(key: string, der: Buffer, expiresAt: number): Promise<void> {
    await this.put(key, der, expiresAt, '*');
  }

  /** Write the staple if Redis holds `expected` ('*': anything); returns whether it was written. */
  private async put(key: string, der: Buffer, expiresAt: number, expected: string): Promise<boolean> {
    const name = this.stapleKey(key);
    if (der.length === 0 || der.length > MAX_STAPLE_BYTES)
      throw new StoreError(`${this.description}: could not save ${name}: ${der.length} bytes is not a staple's size`);
    const until = keptUntil(expiresAt, Date.now());
    const written = await runScript(
      this.conn,
      `save ${name}`,
      PUT_STAPLE,
      [name],
      [der, String(Math.ceil(until)), this.keys.channel, key, expected, String(MAX_STAPLE_BYTES)],
    ).catch((err: unknown) => {
      this.refused(err);
      throw err;
    });
    this.accepted();
    if (written !== 1) return false;
    this.feed.remember(key, sha1(der));
    // A hint for the other hosts' polls; pub/sub has already told those listening.
    await this.conn.send('count a change', this.keys.generation, ['INCR', this.keys.generation]);
    return true;
  }

  /**
   * Redis answered, and said no (maxmemory reached with noeviction, a script error): the
   * connection logs outages, this logs refusals, once when they start and once when they end.
   */
  private refused(err: unknown): void {
    const { ErrorReply } = redisPackage();
    const reply = err instanceof ErrorReply ? err : err instanceof Error && err.cause instanceof ErrorReply ? err.cause : null;
    if (!reply || this.refusing) return;
    this.refusing = true;
    this.log?.warn(
      { store: this.description, err: reply.message },
      'redis refuses to save staples: the fleet does not share new staples until it accepts them again',
    );
  }

  private accepted(): void {
    if (!this.refusing) return;
    this.refusing = false;
    this.log?.info({ store: this.description }, 'redis accepts saves again');
  }

  async delete(key: string): Promise<void> {
    const name = this.stapleKey(key);
    await runScript(this.conn, `delete ${name}`, DELETE_AND_PUBLISH, [name], [this.keys.channel, key]);
    this.feed.remember(key, null);
    await this.conn.send('count a change', this.keys.generation, ['INCR', this.keys.generation]);
  }

  acquire(key: string, ttlMs: number): Promise<Lease | null> {
    return acquireLease(this.conn, this.leaseKey(key), ttlMs);
  }

  /** Redis drops expired staples and leases by itself. */
  prune(): Promise<number> {
    return Promise.resolve(0);
  }

  watch(onChange: (key: string) => void): () => void {
    return this.feed.watch(onChange);
  }

  /** What the change feed was told: notifications, coalesced, dropped, floods. */
  get changeCounts(): FeedCounts {
    return this.feed.counts;
  }

  /** Look for changes pub/sub lost, now (the poll does it every `pollMs`). */
  pollNow(): Promise<void> {
    return this.feed.poll();
  }

  async close(): Promise<void> {
    await this.feed.stop();
    await this.conn.close();
  }
}
