// One scrape's reading of the engine: counts by state, verdict and responder for every
// certificate, and the few certificates that get series of their own (those with a problem,
// and the soonest to lapse), or all of them by option. Read in slices with a turn of the event
// loop between them, so that 100,000 certificates never hold the daemon (and its OCSP
// responder) for long.

import type { CertificateState, CertificateStatus } from '../engine/types.ts';
import type { VerdictLevel } from '../engine/verdict.ts';
import { responderHost } from './certificate-risk.ts';

export const CERTIFICATE_STATES: readonly CertificateState[] = ['no-responder', 'no-issuer', 'pending', 'stapled', 'stapled-refresh-failing', 'unstapled'];

export interface SeriesOptions {
  /** 'problems' (default): series of their own for certificates with a problem and the soonest to lapse; 'all': for every certificate. */
  readonly perCertificate?: 'problems' | 'all';
  /** How many of the soonest to lapse (without a problem) get series of their own (default 100). */
  readonly soonest?: number;
  /** At most this many certificates with a problem get series of their own, worst first (default 1,000). */
  readonly maxProblems?: number;
}

export interface Snapshot {
  readonly byState: Map<CertificateState, number>;
  readonly byVerdict: Record<VerdictLevel, number>;
  /** "host\0state" → count. */
  readonly byResponder: Map<string, number>;
  readonly atRisk: number;
  /** Failing outputs by kind. */
  readonly outputsFailing: Map<string, number>;
  /** The earliest end of a staple being served (ms), or null. */
  readonly soonestValidUntil: number | null;
  /** The certificates with series of their own. */
  readonly rows: readonly CertificateStatus[];
  /** Why they have them: problem, soonest, all; and how many with a problem were left out. */
  readonly exported: Record<'problem' | 'soonest' | 'all' | 'omitted', number>;
}

/** Certificates read between two turns of the event loop. */
const SLICE = 2_000;

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Read `statuses` (lazily: a slice at a time) into a Snapshot. */
export async function readSnapshot(statuses: Iterable<CertificateStatus>, o: SeriesOptions = {}): Promise<Snapshot> {
  const all = o.perCertificate === 'all';
  const soonestMax = Math.max(0, o.soonest ?? 100);
  const problemMax = Math.max(0, o.maxProblems ?? 1_000);
  const byState = new Map<CertificateState, number>(CERTIFICATE_STATES.map((s) => [s, 0]));
  const byVerdict: Record<VerdictLevel, number> = { CRITICAL: 0, WARNING: 0, OK: 0 };
  const byResponder = new Map<string, number>();
  const outputsFailing = new Map<string, number>();
  const critical: CertificateStatus[] = [];
  const warning: CertificateStatus[] = [];
  const everyone: CertificateStatus[] = [];
  let soonest: CertificateStatus[] = [];
  let soonestValidUntil: number | null = null;
  let atRisk = 0;
  let n = 0;
  for (const s of statuses) {
    byState.set(s.state, (byState.get(s.state) ?? 0) + 1);
    byVerdict[s.verdict]++;
    const key = `${responderHost(s.responders[0])}\u0000${s.state}`;
    byResponder.set(key, (byResponder.get(key) ?? 0) + 1);
    if (s.atRisk) atRisk++;
    for (const out of s.outputs) if (!out.ok) outputsFailing.set(out.kind, (outputsFailing.get(out.kind) ?? 0) + 1);
    if (s.serving && s.validUntil !== null && (soonestValidUntil === null || s.validUntil < soonestValidUntil)) soonestValidUntil = s.validUntil;
    if (all) everyone.push(s);
    else if (s.verdict === 'CRITICAL') critical.push(s);
    else if (s.verdict === 'WARNING') warning.push(s);
    else if (s.serving && soonestMax > 0) {
      soonest.push(s);
      // Keep the soonest few: trimmed when twice the bound (amortised, no sort of the whole set).
      if (soonest.length >= 2 * soonestMax) soonest = earliest(soonest, soonestMax);
    }
    if (++n % SLICE === 0) await turn();
  }
  const problems = [...critical, ...warning];
  const kept = all ? everyone : problems.slice(0, problemMax);
  const early = all ? [] : earliest(soonest, soonestMax);
  return {
    byState,
    byVerdict,
    byResponder,
    atRisk,
    outputsFailing,
    soonestValidUntil,
    rows: [...kept, ...early],
    exported: all
      ? { all: everyone.length, problem: 0, soonest: 0, omitted: 0 }
      : { all: 0, problem: kept.length, soonest: early.length, omitted: problems.length - kept.length },
  };
}

function earliest(list: CertificateStatus[], max: number): CertificateStatus[] {
  return list.sort((a, b) => a.validUntil! - b.validUntil!).slice(0, max);
}
