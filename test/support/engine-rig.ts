// A rig for the engine's tests: a real engine around a fake clock, a scripted fetcher, a memory
// store and a log capture, answering with real signed responses from a test PKI.

import { StaplingEngine } from '../../src/engine/engine.ts';
import type { StaplerOptions } from '../../src/node/options.ts';
import type { StapleStore } from '../../src/store/store.ts';
import { MemoryStore } from '../../src/store/memory-store.ts';
import { FakeClock } from './fake-clock.ts';
import type { Issued, TestPki } from './pki.ts';
import { buildResponse, type ResponseSpec } from './responses.ts';
import { ScriptedFetcher, success } from './scripted-fetcher.ts';
import { captureLogger, type LogLine } from './log-capture.ts';

export { captureLogger, type LogLine };

export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;

export interface Rig<S extends StapleStore = MemoryStore> {
  clock: FakeClock;
  fetcher: ScriptedFetcher;
  store: S;
  stapler: StaplingEngine;
  lines: LogLine[];
  /** A signed response for `leaf`, made "now" on the fake clock. */
  respond(leaf?: Issued, over?: Partial<ResponseSpec>): Buffer;
}

export type RigOptions = Partial<Omit<StaplerOptions, 'store'>>;

export function makeRig<S extends StapleStore = MemoryStore>(
  pki: TestPki,
  options: RigOptions = {},
  store?: S,
  clock = new FakeClock(Math.floor(Date.now() / 1000) * 1000),
): Rig<S> {
  const { logger, lines } = captureLogger();
  const respond = (leaf: Issued = pki.leaf, over: Partial<ResponseSpec> = {}): Buffer =>
    buildResponse({
      cert: leaf,
      issuer: pki.intermediate,
      thisUpdate: new Date(clock.now() - MIN),
      nextUpdate: new Date(clock.now() - MIN + 4 * DAY),
      ...over,
    });
  const bySerial = (serial: string): Issued => (Object.values(pki) as Issued[]).find((c) => c.cert.serialHex === serial)!;
  const fetcher = new ScriptedFetcher((req) => success(respond(bySerial(req.certificate.serialHex))));
  const theStore = store ?? (new MemoryStore({ now: () => clock.now() }) as unknown as S);
  // No rate limit unless a test asks: its spacing timers would need the fake clock moved between fetches.
  const stapler = new StaplingEngine({ clock, fetcher, store: theStore, logger, random: () => 0.5, responderRatePerSecond: 0, ...options });
  return { clock, fetcher, store: theStore, stapler, lines, respond };
}
