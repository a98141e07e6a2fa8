// Telling the engine that another host saved or deleted a staple: pub/sub for speed, and, since
// pub/sub loses messages (a reconnect, a slow subscriber), a bounded poll and a re-read of every
// known key after an outage. The poll costs one GET when nothing changed: every save bumps a
// generation counter, and only when it moved are the known keys' versions compared.
// Anyone who can PUBLISH may flood the channel: notifications wait in a bounded set of distinct
// keys (one per key, however many arrive), are reported a batch per turn of the event loop, and a
// flood is logged once when it starts and once when it ends, with its counts.

import type { RedisConnection } from './redis-connection.ts';
import type { StoreLogger } from './redis-options.ts';

/** Keys remembered for the poll; beyond this, the oldest are forgotten (pub/sub still covers them). */
const MAX_KNOWN_KEYS = 100_000;
/** Versions read at once during a poll. */
const POLL_BATCH = 200;
/** Distinct keys waiting to be reported; beyond this, notifications are dropped and the next poll compares every key. */
export const MAX_PENDING_KEYS = 10_000;
/** Keys reported per turn of the event loop, so that a burst never holds it for long. */
const REPORT_BATCH = 256;
/** More notifications than this within a second is a flood. */
export const FLOOD_PER_SECOND = 1_000;

/** What the feed has been told, since it started. */
export interface FeedCounts {
  readonly received: number;
  /** Notifications for a key already waiting to be reported: they add nothing. */
  readonly coalesced: number;
  /** Notifications dropped because MAX_PENDING_KEYS keys were waiting (the next poll looks at every key instead). */
  readonly dropped: number;
  readonly floods: number;
}

export interface FeedKeys {
  readonly channel: string;
  readonly generation: string;
  stapleKey(key: string): string;
  isKey(key: string): boolean;
}

export class ChangeFeed {
  private readonly listeners = new Set<(key: string) => void>();
  /** Key -> version last seen (the DER's SHA-1; '' when absent). */
  private readonly versions = new Map<string, string>();
  private generation: string | null = null;
  private unsubscribe: (() => Promise<void>) | null = null;
  private subscribing = false;
  private polling = false;
  private timer: NodeJS.Timeout | null = null;
  private stopRecovered: (() => void) | null = null;
  /** Keys to report, each once (insertion order). */
  private readonly pending = new Set<string>();
  private draining = false;
  private readonly tally = { received: 0, coalesced: 0, dropped: 0, floods: 0 };
  private windowStart = 0;
  private inWindow = 0;
  /** The flood going on, with the counts when it began and the notifications of the current second. */
  private flood: { timer: NodeJS.Timeout; since: number; received: number; coalesced: number; dropped: number; thisSecond: number } | null = null;

  constructor(
    private readonly conn: RedisConnection,
    private readonly keys: FeedKeys,
    private readonly pollMs: number,
    private readonly log: StoreLogger | undefined = undefined,
  ) {}

  get counts(): FeedCounts {
    return { ...this.tally };
  }

  /** The version we know for `key` (from our own load or save): the poll reports only changes from it. */
  remember(key: string, version: string | number | null): void {
    if (this.versions.size >= MAX_KNOWN_KEYS && !this.versions.has(key)) {
      const oldest = this.versions.keys().next().value;
      if (oldest !== undefined) this.versions.delete(oldest);
    }
    // NaN ('?') matches no version Redis can hold: the poll reports the key whatever it finds.
    this.versions.set(key, version === null ? '' : typeof version === 'number' ? '?' : version);
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

  /** Report `key` soon (once, however often it is asked for before then). */
  private report(key: string): boolean {
    if (this.pending.has(key)) return false;
    if (this.pending.size >= MAX_PENDING_KEYS) {
      this.tally.dropped++;
      // What was dropped may be a real change: the next poll compares every known key.
      this.generation = null;
      return false;
    }
    this.pending.add(key);
    if (!this.draining) {
      this.draining = true;
      setImmediate(() => this.drain());
    }
    return true;
  }

  private drain(): void {
    let n = 0;
    for (const key of this.pending) {
      this.pending.delete(key);
      for (const listener of this.listeners) listener(key);
      if (++n >= REPORT_BATCH) break;
    }
    if (this.pending.size > 0) setImmediate(() => this.drain());
    else this.draining = false;
  }

  /** A notification from pub/sub. */
  private notified(message: string): void {
    this.tally.received++;
    this.countForFlood();
    if (!this.keys.isKey(message)) return;
    const before = this.tally.dropped;
    if (!this.report(message) && this.tally.dropped === before) this.tally.coalesced++;
  }

  private countForFlood(): void {
    if (this.flood) {
      this.flood.thisSecond++;
      return;
    }
    const now = Date.now();
    if (now - this.windowStart >= 1_000) {
      this.windowStart = now;
      this.inWindow = 0;
    }
    if (++this.inWindow <= FLOOD_PER_SECOND) return;
    this.tally.floods++;
    const { received, coalesced, dropped } = this.tally;
    this.flood = { since: now, received: received - this.inWindow, coalesced, dropped, thisSecond: 0, timer: setInterval(() => this.floodCheck(), 1_000) };
    this.flood.timer.unref();
    this.log?.warn(
      { channel: this.keys.channel, perSecond: FLOOD_PER_SECOND },
      'a flood of change notifications on the fleet channel: each certificate is loaded at most once at a time, whatever the count',
    );
  }

  /** Once a second during a flood: it ends with a second of no more than FLOOD_PER_SECOND. */
  private floodCheck(): void {
    const flood = this.flood;
    if (!flood) return;
    if (flood.thisSecond > FLOOD_PER_SECOND) {
      flood.thisSecond = 0;
      return;
    }
    clearInterval(flood.timer);
    this.flood = null;
    this.windowStart = 0;
    this.log?.info(
      {
        channel: this.keys.channel,
        ms: Date.now() - flood.since,
        received: this.tally.received - flood.received,
        coalesced: this.tally.coalesced - flood.coalesced,
        dropped: this.tally.dropped - flood.dropped,
      },
      'the flood of change notifications is over',
    );
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
        this.notified(message);
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
          batch.map((key) => this.conn.send('read a staple version', this.keys.stapleKey(key), ['HGET', this.keys.stapleKey(key), 'v'])),
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
    if (this.flood) clearInterval(this.flood.timer);
    this.flood = null;
    this.pending.clear();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.stopRecovered?.();
    this.stopRecovered = null;
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = null;
    if (unsubscribe) await unsubscribe();
  }
}
