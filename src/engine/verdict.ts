// The verdict on one certificate: OK, WARNING or CRITICAL, with one line per problem. This is the
// one place that decides "serving a staple", "at risk" and "healthy": the engine publishes the
// result in every CertificateStatus, and /healthz, the metrics, /status.json, the status page and
// `stapler status` read it (the daemon judges again only to add its outputs' health). Pure.

import type { CertificateState } from './types.ts';

/** A staple that lapses sooner than this, with no refresh on its way in time, is CRITICAL. */
export const LAPSE_WARNING_MS = 60 * 60_000;

export type VerdictLevel = 'OK' | 'WARNING' | 'CRITICAL';

/** Worst first: the order problems are listed in. */
export const VERDICT_LEVELS: readonly VerdictLevel[] = ['CRITICAL', 'WARNING', 'OK'];

/** Whether one output of a certificate (a staple file, an include, a HAProxy push, the reload command) was last written. */
export interface OutputHealth {
  readonly kind: string;
  /** The file (or socket, or command) written. */
  readonly target: string;
  readonly ok: boolean;
  readonly error: string | null;
  /** Since when it is in this state (ms since the epoch). */
  readonly since: number;
}

/** What the verdict is judged from (a CertificateStatus has all of it; so has the daemon's state file). */
export interface VerdictFacts {
  readonly state: CertificateState;
  readonly certStatus: 'good' | 'revoked' | null;
  readonly mustStaple: boolean;
  readonly validUntil: number | null;
  readonly nextRefreshAt: number | null;
  readonly lastError: { readonly reason: string; readonly message: string } | null;
}

export interface Verdict {
  readonly verdict: VerdictLevel;
  /** A few words for the worst problem (or the state when there is none): badges and table cells. */
  readonly summary: string;
  /** A staple is being served. */
  readonly serving: boolean;
  /** The staple served may lapse before it is replaced (or a Must-Staple certificate has none). */
  readonly atRisk: boolean;
  /** One line per problem, worst first, without the certificate's name. */
  readonly problems: readonly string[];
}

const STAPLED_OK: Verdict = Object.freeze({
  verdict: 'OK',
  summary: 'stapled',
  serving: true,
  atRisk: false,
  problems: Object.freeze([]),
});

const QUIET: Record<CertificateState, string> = {
  stapled: 'stapled',
  'stapled-refresh-failing': 'stapled, refresh failing',
  unstapled: 'no staple',
  pending: 'waiting for a first staple',
  'no-responder': 'no OCSP responder',
  'no-issuer': 'issuer unknown',
};

export const isServing = (state: CertificateState): boolean => state === 'stapled' || state === 'stapled-refresh-failing';

/**
 * CRITICAL: revoked; no staple after its first fetch; a Must-Staple certificate without a staple
 * (pending excepted: the first fetch is running); a staple that lapses within the hour with no
 * refresh on its way in time; a Must-Staple staple whose next try comes after it lapses.
 * WARNING: a failing refresh while the staple still has time; an unknown issuer; an output not written.
 * OK: stapled, pending, no responder (without Must-Staple: nothing to staple).
 * `lastError` is read only in the states a failure explains (unstapled, refresh failing): an
 * error whose cause has gone says nothing.
 */
export function judge(f: VerdictFacts, now: number, outputs: readonly OutputHealth[] = [], windowMs = LAPSE_WARNING_MS): Verdict {
  // The common case, without an allocation (a scrape of 100,000 certificates judges each one).
  if (f.state === 'stapled' && f.certStatus === 'good' && outputs.length === 0 && f.validUntil !== null && f.validUntil - now >= windowMs) return STAPLED_OK;
  const critical: [string, string][] = [];
  const warning: [string, string][] = [];
  const serving = isServing(f.state);
  const failing = f.state === 'stapled-refresh-failing' || f.state === 'unstapled';
  const why = `${f.state}${failing && f.lastError ? `: ${f.lastError.reason}` : ''}`;
  const lapsesSoon = serving && f.validUntil !== null && f.validUntil - now < windowMs && !refreshInTime(f);
  const mustStapleLate =
    f.mustStaple && f.state === 'stapled-refresh-failing' && f.validUntil !== null && f.nextRefreshAt !== null && f.nextRefreshAt >= f.validUntil;
  const mustStapleBare = f.mustStaple && !serving && f.state !== 'pending';
  if (f.certStatus === 'revoked') critical.push(['REVOKED', 'REVOKED: the staple says the CA revoked this certificate: replace it']);
  if (mustStapleBare) critical.push(['Must-Staple, no staple', `Must-Staple and no staple (${why})`]);
  else if (f.state === 'unstapled') critical.push(['no staple', `no staple (${why})`]);
  if (lapsesSoon) {
    const minutes = Math.max(0, Math.floor((f.validUntil - now) / 60_000));
    const cause = f.state === 'stapled-refresh-failing' ? `its refresh is failing (${why})` : 'no refresh is planned before then';
    critical.push(['staple lapsing', `the staple lapses in ${minutes} min (at ${iso(f.validUntil)}) and ${cause}`]);
  } else if (mustStapleLate) {
    critical.push([
      'Must-Staple at risk',
      `Must-Staple at risk: the staple lapses at ${iso(f.validUntil)}, before the next try at ${iso(f.nextRefreshAt)} (${why})`,
    ]);
  } else if (f.state === 'stapled-refresh-failing') {
    const until = f.validUntil === null ? '' : `; the staple is served until ${iso(f.validUntil)}`;
    warning.push(['refresh failing', `its refresh is failing (${why}${f.lastError ? `: ${f.lastError.message}` : ''})${until}`]);
  }
  if (f.state === 'no-issuer' && !mustStapleBare) warning.push(['issuer unknown', 'the issuer is not known: give the full chain or the issuer setting']);
  for (const o of outputs) if (!o.ok) warning.push(['output failed', outputProblem(o)]);
  const verdict: VerdictLevel = critical.length > 0 ? 'CRITICAL' : warning.length > 0 ? 'WARNING' : 'OK';
  const worst = critical[0] ?? warning[0];
  return {
    verdict,
    summary: worst ? worst[0] : QUIET[f.state],
    serving,
    atRisk: mustStapleBare || lapsesSoon || mustStapleLate,
    problems: [...critical, ...warning].map(([, line]) => line),
  };
}

/** A failing output in words: a file is written, a push made, a command run (the daemon's kinds; any other is named as it is). */
function outputProblem(o: OutputHealth): string {
  const error = o.error ? `: ${o.error}` : '';
  if (o.kind === 'haproxy-push') return `cannot push the staple to HAProxy (${o.target})${error}`;
  if (o.kind === 'reload-command') return `the reload command failed (${o.target})${error}`;
  return `cannot write the ${o.kind.replace('-', ' ')} ${o.target}${error}`;
}

/** Judge a status again with its outputs' health (the daemon's): a failed output adds a WARNING. */
export function withOutputs<T extends VerdictFacts & Verdict>(s: T, outputs: readonly OutputHealth[], now: number): T & { outputs: readonly OutputHealth[] } {
  return outputs.some((o) => !o.ok) ? { ...s, ...judge(s, now, outputs), outputs } : { ...s, outputs };
}

export interface Judged {
  readonly verdict: VerdictLevel;
  readonly summary: string;
  readonly problems: readonly string[];
}

export interface Overall {
  /** The worst verdict (OK for none). */
  readonly verdict: VerdictLevel;
  readonly counts: Readonly<Record<VerdictLevel, number>>;
  /** Counts by summary among those with a problem, worst first ("3 no staple"). */
  readonly reasons: readonly string[];
  /** Problem lines naming each item, worst first, at most `maxProblems`. */
  readonly problems: readonly string[];
  /** Problem lines left out. */
  readonly more: number;
}

/** The verdict over many: the worst, counts, and the problems listed worst first (bounded). */
export function overall<T extends Judged>(items: Iterable<T>, label: (t: T) => string, maxProblems = 100): Overall {
  const counts: Record<VerdictLevel, number> = { CRITICAL: 0, WARNING: 0, OK: 0 };
  const bySummary: Record<VerdictLevel, Map<string, number>> = { CRITICAL: new Map(), WARNING: new Map(), OK: new Map() };
  const lines: Record<VerdictLevel, string[]> = { CRITICAL: [], WARNING: [], OK: [] };
  let total = 0;
  for (const t of items) {
    counts[t.verdict]++;
    if (t.verdict === 'OK') continue;
    bySummary[t.verdict].set(t.summary, (bySummary[t.verdict].get(t.summary) ?? 0) + 1);
    for (const p of t.problems) {
      total++;
      if (lines[t.verdict].length < maxProblems) lines[t.verdict].push(`${label(t)}: ${p}`);
    }
  }
  const problems = [...lines.CRITICAL, ...lines.WARNING].slice(0, maxProblems);
  const reasons = (['CRITICAL', 'WARNING'] as const).flatMap((l) => [...bySummary[l]].map(([summary, n]) => `${n} ${summary}`));
  const verdict: VerdictLevel = counts.CRITICAL > 0 ? 'CRITICAL' : counts.WARNING > 0 ? 'WARNING' : 'OK';
  return { verdict, counts, reasons, problems, more: total - problems.length };
}

/** The worse of two levels. */
export const worse = (a: VerdictLevel, b: VerdictLevel): VerdictLevel => (VERDICT_LEVELS.indexOf(a) <= VERDICT_LEVELS.indexOf(b) ? a : b);

/** A refresh is on its way in time: not failing, and planned before the staple lapses. */
const refreshInTime = (f: VerdictFacts): boolean =>
  f.state === 'stapled' && f.nextRefreshAt !== null && f.validUntil !== null && f.nextRefreshAt < f.validUntil;

const iso = (t: number): string => new Date(t).toISOString();
