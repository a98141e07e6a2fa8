// What watches the daemon's engines from outside (metrics, alerts): it may wrap the fetcher and
// the store each engine is given, and is shown each engine made (a SIGHUP can make a new one).

import type { StaplingEngine } from '../engine/engine.ts';
import type { StapleFetcher } from '../fetch/staple-fetcher.ts';
import type { StapleStore } from '../store/store.ts';

export interface EngineObserver {
  fetcher?(fetcher: StapleFetcher): StapleFetcher;
  store?(store: StapleStore): StapleStore;
  engine?(engine: StaplingEngine): void;
}

/** The fetcher and store an engine gets, wrapped by every observer in turn. */
export function observedParts(
  observers: readonly EngineObserver[],
  parts: { fetcher: StapleFetcher; store: StapleStore },
): { fetcher: StapleFetcher; store: StapleStore } {
  let { fetcher, store } = parts;
  for (const o of observers) {
    if (o.fetcher) fetcher = o.fetcher(fetcher);
    if (o.store) store = o.store(store);
  }
  return { fetcher, store };
}
