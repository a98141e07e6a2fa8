// What /status shows of many certificates: counts of every verdict and state, then one page of
// rows, problems first, filtered by state (or verdict) and by name. Done on the server, so the
// page carries one page of cards whatever the number of certificates. Pure.

import { VERDICT_LEVELS, type VerdictLevel } from '../../engine/verdict.ts';

export const PAGE_SIZE = 50;
/** Longest name filter kept (a longer one is cut: it is a substring search). */
const MAX_NAME = 200;
const MAX_PAGE = 1_000_000;

export interface StatusQuery {
  /** A verdict (CRITICAL, WARNING, OK) or a state (stapled, unstapled, …); null: all. */
  readonly state: string | null;
  /** A substring of the file or subject (case-insensitive); null: all. */
  readonly name: string | null;
  /** 1-based. */
  readonly page: number;
}

export const ALL: StatusQuery = { state: null, name: null, page: 1 };

export function parseStatusQuery(search: URLSearchParams): StatusQuery {
  const state = search.get('state')?.trim() || null;
  const name = search.get('name')?.trim().slice(0, MAX_NAME) || null;
  const page = Number.parseInt(search.get('page') ?? '1', 10);
  return { state, name, page: Number.isFinite(page) ? Math.min(MAX_PAGE, Math.max(1, page)) : 1 };
}

export interface Selectable {
  readonly file: string | null;
  readonly subject: string | null;
  readonly state: string;
  readonly verdict: VerdictLevel;
}

export interface Selection<T> {
  readonly rows: readonly T[];
  /** Rows that match the filter (all pages). */
  readonly matched: number;
  readonly page: number;
  readonly pages: number;
  readonly pageSize: number;
  readonly total: number;
  readonly byVerdict: Readonly<Record<VerdictLevel, number>>;
  readonly byState: ReadonlyMap<string, number>;
}

/** Count everything, filter, put problems first (CRITICAL, then WARNING, each in the given order) and cut one page. */
export function selectRows<T extends Selectable>(all: readonly T[], q: StatusQuery, pageSize = PAGE_SIZE): Selection<T> {
  const byVerdict: Record<VerdictLevel, number> = { CRITICAL: 0, WARNING: 0, OK: 0 };
  const byState = new Map<string, number>();
  const buckets: Record<VerdictLevel, T[]> = { CRITICAL: [], WARNING: [], OK: [] };
  const wanted = q.state?.toUpperCase();
  const byLevel = VERDICT_LEVELS.includes(wanted as VerdictLevel);
  const needle = q.name?.toLowerCase() ?? null;
  for (const r of all) {
    byVerdict[r.verdict]++;
    byState.set(r.state, (byState.get(r.state) ?? 0) + 1);
    if (q.state !== null && (byLevel ? r.verdict !== wanted : r.state !== q.state)) continue;
    if (needle !== null && !(r.file ?? '').toLowerCase().includes(needle) && !(r.subject ?? '').toLowerCase().includes(needle)) continue;
    buckets[r.verdict].push(r);
  }
  const matched = buckets.CRITICAL.length + buckets.WARNING.length + buckets.OK.length;
  const pages = Math.max(1, Math.ceil(matched / pageSize));
  const page = Math.min(q.page, pages);
  const from = (page - 1) * pageSize;
  const rows: T[] = [];
  let skip = from;
  for (const level of VERDICT_LEVELS) {
    const bucket = buckets[level];
    if (skip >= bucket.length) {
      skip -= bucket.length;
      continue;
    }
    rows.push(...bucket.slice(skip, skip + pageSize - rows.length));
    skip = 0;
    if (rows.length >= pageSize) break;
  }
  return { rows, matched, page, pages, pageSize, total: all.length, byVerdict, byState };
}

/** The query string for `q` (only what differs from the defaults). */
export function queryString(q: StatusQuery): string {
  const p = new URLSearchParams();
  if (q.state) p.set('state', q.state);
  if (q.name) p.set('name', q.name);
  if (q.page > 1) p.set('page', String(q.page));
  const s = p.toString();
  return s ? `?${s}` : '';
}
