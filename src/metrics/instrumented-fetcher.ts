// A StapleFetcher decorator that times each fetch, by the host of the responder that answered
// (or of the first one asked, when none did). The engine is not touched.

import { performance } from 'node:perf_hooks';
import type { FetchOutcome, FetchRequest, StapleFetcher } from '../fetch/staple-fetcher.ts';
import { responderHost } from './certificate-risk.ts';

export class InstrumentedFetcher implements StapleFetcher {
  constructor(
    private readonly inner: StapleFetcher,
    private readonly record: (responderHost: string, seconds: number) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  async fetch(request: FetchRequest): Promise<FetchOutcome> {
    const started = this.now();
    let outcome: FetchOutcome | null = null;
    try {
      outcome = await this.inner.fetch(request);
      return outcome;
    } finally {
      this.record(responderHost(outcome?.ok ? outcome.url : request.urls[0]), (this.now() - started) / 1000);
    }
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
