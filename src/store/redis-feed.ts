// Telling the engine that another host saved or deleted a staple: pub/sub for speed, and, since
// pub/sub loses messages (a reconnect, a slow subscriber), a bounded poll and a re-read of every
// known key after an outage. The poll costs one GET when nothing changed: every save bumps a
// generation counter, and only when it moved are the known keys' versions compared.

import type { RedisConnection } from './redis-connection.ts';

/** Keys remembered for the poll; beyond this, the oldest are forgotten (pub/sub still covers them). */
const MAX_KNOWN_KEYS = 100_000;
/** Versions read at once during a poll. */
const POLL_BATCH = 200;

export interface FeedKeys {
  readonly channel: string;
  readonly generation: string;
  stapleKey(key: string): string;
  isKey(key: string): boolean;
}

export class ChangeFeed {
  private readonly listeners = new Set<(key: string) => void>();
  /** Key -> thisUpdate last seen ('' when absent). */
  private readonly versions = new Map<string, string>();
  private generation: string | null = null;
  private unsubscribe: (() => Promise<void>) | null = null;
  private subscribing = false;
  private polling = false;
  private timer: NodeJS.Timeout | null = null;
  private stopRecovered: (() => void) | null = null;

  constructor(
    private readonly conn: RedisConnection,
    private readonly keys: FeedKeys,
    private readonly pollMs: number,
  ) {}

  /** The version we know for `key` (from our own load or save): the poll reports only changes from it. */
  remember(key: string, thisUpdate: number | null): void {
    if (this.versions.size >= MAX_KNOWN_KEYS && !this.versions.has(key)) {
      const oldest = this.versions.keys().next().value;
      if (oldest !== undefined) this.versions.delete(oldest);
    }
    // NaN ('?') matches no version Redis can hold: the poll reports the key whatever it finds.
    this.versions.set(key, thisUpdate === null ? '' : Number.isNaN(thisUpdate) ? '?' : String(thisUpdate));
  }

  /** A key whose version we could not read: reported after the next outage and at the next poll. */
  track(key: string): void {
    if (!this.versions.has(key)) this.remember(key, Number.NaN);
  }

  watch(onChange: (key: string) => void): () => void {
    this.listeners.add(onChange);
    if (this.listeners.size === 1) this.start();
    return () => {
      this.listeners.delete(onChange);
      if (this.listeners.size === 0) void this.stop();
    };
  }

  private report(key: string): void {
    for (const listener of this.listeners) listener(key);
  }

  private start(): void {
    this.conn.start();
    this.stopRecovered = this.conn.onRecovered(() => {
      // Whatever was published during the outage is lost: look at everything again.
      for (const key of this.versions.keys()) this.report(key);
      void this.subscribe();
    });
    void this.subscribe();
    this.timer = setInterval(() => void this.poll(), this.pollMs);
    this.timer.unref();
  }

  private async subscribe(): Promise<void> {
    if (this.unsubscribe || this.subscribing) return;
    this.subscribing = true;
    try {
      const unsubscribe = await this.conn.subscribe(this.keys.channel, (message) => {
        if (this.keys.isKey(message)) this.report(message);
      });
      if (this.listeners.size === 0) await unsubscribe();
      else this.unsubscribe = unsubscribe;
    } catch {
      // Redis is down: the next poll tries again, and the connection logs the outage.
    } finally {
      this.subscribing = false;
    }
  }

  /** One look for changes that pub/sub may have lost. Exposed for tests. */
  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      void this.subscribe();
      const counter = await this.conn.send('read the change counter', this.keys.generation, ['GET', this.keys.generation]);
      const generation = Buffer.isBuffer(counter) ? counter.toString() : '';
      if (generation === this.generation) return;
      this.generation = generation;
      const known = [...this.versions.keys()];
      for (let i = 0; i < known.length; i += POLL_BATCH) {
        const batch = known.slice(i, i + POLL_BATCH);
        const seen = await Promise.all(
          batch.map((key) => this.conn.send('read a staple version', this.keys.stapleKey(key), ['HGET', this.keys.stapleKey(key), 'tu'])),
        );
        batch.forEach((key, j) => {
          const reply = seen[j];
          const version = Buffer.isBuffer(reply) || typeof reply === 'string' || typeof reply === 'number' ? reply.toString() : '';
          if (this.versions.has(key) && this.versions.get(key) !== version) {
            this.versions.set(key, version);
            this.report(key);
          }
        });
      }
    } catch {
      // Redis is down or slow: nothing to report; the connection logs the outage.
    } finally {
      this.polling = false;
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.stopRecovered?.();
    this.stopRecovered = null;
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = null;
    if (unsubscribe) await unsubscribe();
  }
}
