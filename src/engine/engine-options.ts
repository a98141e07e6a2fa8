// What the engine is built and reconfigured with: its settings (types.ts) and what it is given
// rather than choosing (store, fetcher, logger, clock): the faces wire the defaults.

import type { StapleFetcher } from '../fetch/staple-fetcher.ts';
import type { StapleStore } from '../store/store.ts';
import type { Clock } from './clock.ts';
import type { Logger } from './logger.ts';
import type { EngineSettings } from './types.ts';

/** How one certificate is added: its issuer when the chain lacks it, its responders, a label. */
export interface AddOptions {
  /** The issuer, when the chain does not hold it (PEM or DER). */
  readonly issuer?: string | Uint8Array;
  /** Responder URLs for this certificate (overrides AIA and the global override). */
  readonly responderUrls?: readonly string[];
  /** A label for errors and logs (e.g. the file it came from). */
  readonly label?: string;
}

/** What the engine is given rather than choosing: the faces wire the defaults. */
export interface EngineDependencies {
  readonly store: StapleStore;
  readonly fetcher: StapleFetcher;
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly random?: () => number;
}

/** The engine's settings and what it is given. */
export type EngineOptions = EngineSettings & EngineDependencies;

/** What reconfigure() takes: the new tunables (each one left out returns to its default), and optionally a new fetcher and store. */
export type Reconfiguration = EngineSettings & { readonly fetcher?: StapleFetcher; readonly store?: StapleStore };
