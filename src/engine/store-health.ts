// Whether the store works, logged once when that changes (never once per operation): a store
// that fails is for sharing and persistence only, so stapling goes on from memory without it.

import type { Logger } from './logger.ts';

export class StoreHealth {
  private failing: string | null = null;

  constructor(
    private readonly log: Logger,
    private readonly description: string,
  ) {}

  ok(): void {
    if (this.failing === null) return;
    this.log.info({ store: this.description }, 'the store works again');
    this.failing = null;
  }

  failed(operation: string, err: unknown): void {
    const message = `${operation}: ${err instanceof Error ? err.message : String(err)}`;
    if (this.failing === null) {
      this.log.error({ store: this.description, err: message }, 'the store is failing: stapling goes on from memory, and this process fetches for itself');
    } else {
      this.log.debug({ store: this.description, err: message }, 'the store is still failing');
    }
    this.failing = message;
  }

  /** Run a store operation; on failure, record it and return `fallback`. */
  async attempt<T>(operation: string, fn: () => Promise<T>, fallback: T): Promise<T> {
    try {
      const result = await fn();
      this.ok();
      return result;
    } catch (err) {
      this.failed(operation, err);
      return fallback;
    }
  }
}
