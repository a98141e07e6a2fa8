// Waiting until every certificate is stapled or definitely cannot be. The wait always settles by
// its deadline: its timer keeps the process alive, so `await stapler.ready()` at the top level of
// a program never leaves Node exiting with the await unsettled (exit code 13).

import { InputError } from '../ocsp/errors.ts';
import { MustStapleError } from './errors.ts';
import type { ManagedCertificate } from './managed.ts';
import type { ReadyReport } from './types.ts';

export interface ReadySource {
  certificates(): Iterable<ManagedCertificate>;
  isRegistered(m: ManagedCertificate): boolean;
  /** Be told of each certificate registered from now on; returns an unsubscribe function. */
  onRegister(fn: (m: ManagedCertificate) => void): () => void;
  /** Resolves at the next change of any certificate, or at `deadline`, whichever is first. */
  nextChange(deadline: number): Promise<void>;
  now(): number;
  isClosed(): boolean;
}

export async function waitUntilReady(source: ReadySource, timeout: number): Promise<ReadyReport> {
  if (!Number.isFinite(timeout) || timeout < 0) throw new InputError('ready({ timeout })', `${String(timeout)} is not valid: expected milliseconds, 0 or more`);
  const deadline = source.now() + timeout;
  // Each certificate is looked at once when it appears, then only while it is still waiting:
  // with 10,000 certificates, a wake-up per completed fetch must not rescan them all.
  const waiting = new Set<ManagedCertificate>();
  const hopeless: ManagedCertificate[] = [];
  const consider = (m: ManagedCertificate): void => {
    if (m.mustStaple && !m.fetchable) hopeless.push(m);
    if (m.fetchable && !m.life.staple) waiting.add(m);
  };
  for (const m of source.certificates()) consider(m);
  const done = (m: ManagedCertificate): boolean => m.life.staple !== null || !source.isRegistered(m);
  const unsubscribe = source.onRegister(consider);
  try {
    for (;;) {
      if (hopeless.length > 0) throw mustStapleError('no-responder', hopeless, 'cannot be stapled: no OCSP responder, or no known issuer');
      // Up to the first one still waiting: a wake-up per completed fetch must not rescan 100,000
      // (that was quadratic); each certificate leaves the set once.
      for (const m of waiting) {
        if (!done(m)) break;
        waiting.delete(m);
      }
      const over = source.isClosed() || source.now() >= deadline;
      if (waiting.size === 0 || over) {
        for (const m of waiting) if (done(m)) waiting.delete(m);
        const must = [...waiting].filter((m) => m.mustStaple);
        if (must.length > 0) throw mustStapleError('timeout', must, `could not be stapled within ${timeout} ms`);
        const all = [...source.certificates()];
        return {
          stapled: all.filter((m) => m.life.staple).map((m) => m.status(source.now())),
          noResponder: all.filter((m) => !m.fetchable).map((m) => m.status(source.now())),
          unstapled: [...waiting].map((m) => m.status(source.now())),
        };
      }
      await source.nextChange(deadline);
    }
  } finally {
    unsubscribe();
  }
}

function mustStapleError(why: 'no-responder' | 'timeout', ms: readonly ManagedCertificate[], detail: string): MustStapleError {
  const list = ms.map((m) => ({
    subject: m.cert.subject,
    serial: m.cert.serialHex,
    state: m.state(),
    lastError: m.life.lastError && { reason: m.life.lastError.reason, message: m.life.lastError.message },
  }));
  return new MustStapleError(why, list, detail);
}
