// A fetcher whose answers the test decides, call by call. It counts calls, and can hold a fetch
// open until the test releases it (for single-flight and concurrency tests).

import type { FailureReason, FetchOutcome, FetchRequest, StapleFetcher } from '../../src/fetch/staple-fetcher.ts';

export type Script = (request: FetchRequest) => FetchOutcome | Promise<FetchOutcome>;

export class ScriptedFetcher implements StapleFetcher {
  readonly calls: FetchRequest[] = [];
  active = 0;
  maxActive = 0;
  private held: (() => void)[] = [];
  hold = false;

  constructor(public script: Script) {}

  async fetch(request: FetchRequest): Promise<FetchOutcome> {
    this.calls.push(request);
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      if (this.hold) {
        // Like a real fetcher, give up when the engine aborts (it does on close()).
        const aborted = await new Promise<boolean>((resolve) => {
          const onAbort = (): void => resolve(true);
          // Removed once released: the engine's one signal is shared by every fetch.
          this.held.push(() => {
            request.signal.removeEventListener('abort', onAbort);
            resolve(false);
          });
          request.signal.addEventListener('abort', onAbort, { once: true });
        });
        if (aborted) return failure('fetch-timeout', 'aborted');
      }
      return await this.script(request);
    } finally {
      this.active--;
    }
  }

  /** Let every held fetch go on. */
  release(): void {
    for (const go of this.held.splice(0)) go();
  }

  /** Let the oldest held fetch go on. */
  releaseOne(): void {
    this.held.shift()?.();
  }

  get heldCount(): number {
    return this.held.length;
  }

  callsFor(serial: string): number {
    return this.calls.filter((c) => c.certificate.serialHex === serial).length;
  }

  close(): Promise<void> {
    this.release();
    return Promise.resolve();
  }
}

export const failure = (reason: FailureReason = 'fetch-network', message = 'connection refused'): FetchOutcome => ({ ok: false, reason, message });
export const success = (der: Buffer, maxAgeSeconds: number | null = null): FetchOutcome => ({ ok: true, der, url: 'http://127.0.0.1:9/ocsp', maxAgeSeconds });
