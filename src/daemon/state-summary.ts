// The state file's summary: what `stapler status` prints by default, bounded whatever the
// number of certificates (counts, the problems up to a cap, the soonest to lapse). Built in one
// pass over the file states; pure (no I/O, no clock).

import type { VerdictLevel } from '../engine/verdict.ts';
import type { DaemonCounters, FileState } from './state.ts';

/** At most this many problem files are kept in the summary (the rest are counted). */
export const MAX_PROBLEMS = 1_000;
/** The serving certificates whose staples lapse first, kept in the summary. */
export const SOONEST = 10;

export interface StateSummary extends DaemonCounters {
  /** 2: a summary, with every file in the detail file beside it (1, without it: `files` in this file). */
  readonly format: 2;
  readonly verdict: VerdictLevel;
  readonly verdicts: Record<VerdictLevel, number>;
  /** Files by the engine's state ('unusable' for a file that could not be used). */
  readonly states: Record<string, number>;
  /** "N summary" for each kind of problem, CRITICAL first (every problem file counted). */
  readonly reasons: readonly string[];
  /** The files whose verdict is not OK, CRITICAL first, at most MAX_PROBLEMS. */
  readonly problems: readonly FileState[];
  readonly problemsOmitted: number;
  /** The serving files whose staples lapse first, soonest first. */
  readonly soonest: readonly FileState[];
  /** The detail file (every file's state, one JSON line each), by its name beside this file, and when it was last written. */
  readonly detail: { readonly file: string; readonly updatedAt: string | null };
}

/** Gathers a summary from file states, one at a time. */
export class SummaryBuilder {
  private readonly verdicts: Record<VerdictLevel, number> = { CRITICAL: 0, WARNING: 0, OK: 0 };
  private readonly states = new Map<string, number>();
  private readonly bySummary: Record<'CRITICAL' | 'WARNING', Map<string, number>> = { CRITICAL: new Map(), WARNING: new Map() };
  private readonly problems: Record<'CRITICAL' | 'WARNING', FileState[]> = { CRITICAL: [], WARNING: [] };
  private soonest: FileState[] = [];

  add(f: FileState): void {
    this.verdicts[f.verdict]++;
    this.states.set(f.state, (this.states.get(f.state) ?? 0) + 1);
    if (f.verdict !== 'OK') {
      const by = this.bySummary[f.verdict];
      by.set(f.summary, (by.get(f.summary) ?? 0) + 1);
      if (this.problems[f.verdict].length < MAX_PROBLEMS) this.problems[f.verdict].push(f);
    }
    if (f.serving && f.validUntil !== null) this.keepIfSoonest(f);
  }

  /** A small sorted list: one insertion per file that lapses sooner than the last kept. */
  private keepIfSoonest(f: FileState): void {
    const last = this.soonest[this.soonest.length - 1];
    if (this.soonest.length >= SOONEST && last && last.validUntil! <= f.validUntil!) return;
    const at = this.soonest.findIndex((s) => s.validUntil! > f.validUntil!);
    this.soonest.splice(at < 0 ? this.soonest.length : at, 0, f);
    if (this.soonest.length > SOONEST) this.soonest.pop();
  }

  finish(counters: DaemonCounters, detail: StateSummary['detail']): StateSummary {
    const problems = [...this.problems.CRITICAL, ...this.problems.WARNING].slice(0, MAX_PROBLEMS);
    const reasons = (['CRITICAL', 'WARNING'] as const).flatMap((l) => [...this.bySummary[l]].map(([summary, n]) => `${n} ${summary}`));
    const verdict: VerdictLevel = this.verdicts.CRITICAL > 0 ? 'CRITICAL' : this.verdicts.WARNING > 0 ? 'WARNING' : 'OK';
    return {
      format: 2,
      ...counters,
      verdict,
      verdicts: { ...this.verdicts },
      states: Object.fromEntries(this.states),
      reasons,
      problems,
      problemsOmitted: this.verdicts.CRITICAL + this.verdicts.WARNING - problems.length,
      soonest: [...this.soonest],
      detail,
    };
  }
}

/** The detail file's name for a state file: `state.json` → `state.files.jsonl`, beside it. */
export const detailFileName = (stateFileName: string): string => `${stateFileName.replace(/\.json$/, '')}.files.jsonl`;
