// Signature checks in flight on libuv's thread pool (node:crypto's verify with a callback), so
// that settle() can wait for them: the engine verifies responses there, and a test on a fake
// clock must see a fetch's outcome once it settles, however loaded the machine. node:crypto's
// verify is wrapped (calling through, in both forms) before any test runs; a test can also
// record every call, to count the signature checks a path makes and see which form each took.

import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';

type VerifyCallback = (err: Error | null, ok: boolean) => void;

let inFlight = 0;
const waiting: (() => void)[] = [];

/** One call of node:crypto's verify: over which bytes, and on the thread pool or on the event loop. */
export interface VerifyCall {
  readonly data: Buffer;
  readonly onThreadPool: boolean;
}

const recorders = new Set<VerifyCall[]>();

const original = crypto.verify;
const tracked = ((...args: unknown[]) => {
  const callback = args[4];
  const onThreadPool = typeof callback === 'function';
  for (const calls of recorders) calls.push({ data: Buffer.from(args[1] as Uint8Array), onThreadPool });
  if (!onThreadPool) return (original as (...a: unknown[]) => unknown)(...args);
  inFlight++;
  const done: VerifyCallback = (err, ok) => {
    inFlight--;
    if (inFlight === 0) for (const wake of waiting.splice(0)) wake();
    (callback as VerifyCallback)(err, ok);
  };
  try {
    return (original as (...a: unknown[]) => unknown)(...args.slice(0, 4), done);
  } catch (err) {
    inFlight--;
    throw err;
  }
}) as typeof crypto.verify;

if (crypto.verify === original) {
  crypto.verify = tracked;
  syncBuiltinESMExports();
}

/** Signature checks started on the thread pool and not yet called back. */
export function cryptoJobsInFlight(): number {
  return inFlight;
}

/** Resolves when no signature check is in flight on the thread pool. */
export function cryptoJobsDone(): Promise<void> {
  if (inFlight === 0) return Promise.resolve();
  return new Promise((resolve) => waiting.push(resolve));
}

/** Record every call of node:crypto's verify from now until `stop()`. */
export function recordVerifyCalls(): { readonly calls: VerifyCall[]; stop(): void } {
  const calls: VerifyCall[] = [];
  recorders.add(calls);
  return { calls, stop: () => recorders.delete(calls) };
}
