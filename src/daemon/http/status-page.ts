// The status page: server-rendered HTML with no external assets and no script. Every value is
// escaped (file names and subjects come from certificates and paths an attacker may influence).
// A pure function of the rows and the time, so that tests and the screenshot are reproducible.
// The verdict and its words are the engine's (verdict.ts): the page only picks the colour.

import type { VerdictLevel } from '../../engine/verdict.ts';
import { ALL, queryString, selectRows, type Selectable, type Selection, type StatusQuery } from './status-query.ts';

export interface StatusRow {
  /** The certificate file (the daemon), or null. */
  readonly file: string | null;
  readonly subject: string | null;
  readonly serial: string | null;
  readonly state: string;
  readonly certStatus: 'good' | 'revoked' | null;
  readonly mustStaple: boolean;
  readonly thisUpdate: number | null;
  readonly nextUpdate: number | null;
  readonly validUntil: number | null;
  readonly nextRefreshAt: number | null;
  readonly lastError: string | null;
  readonly failures: number;
  readonly verdict: VerdictLevel;
  readonly summary: string;
  readonly problems: readonly string[];
}

export interface StatusPage<T extends Selectable = StatusRow> {
  readonly title: string;
  /** Lines under the title (e.g. the daemon's pid and start time). */
  readonly facts: readonly string[];
  /** Every row: the page counts them all and shows one page of them. */
  readonly rows: readonly T[];
  /** A row for a card (only the page's rows are turned into cards); default: the row itself. */
  readonly toRow?: (row: T) => StatusRow;
  readonly query?: StatusQuery;
  /** Lines about the unmanaged CertIDs the OCSP responder was asked about (bounded by the caller). */
  readonly unmanaged?: readonly string[];
  /** Seconds between reloads. */
  readonly refreshSeconds: number;
}

/** Where thisUpdate, the refresh point and now fall on the bar, as percentages of thisUpdate → end (nextUpdate, else validUntil). */
export interface Timeline {
  readonly start: number;
  readonly end: number;
  readonly refreshPct: number | null;
  readonly nowPct: number;
}

export function timeline(row: StatusRow, now: number): Timeline | null {
  const end = row.nextUpdate ?? row.validUntil;
  if (row.thisUpdate === null || end === null || end <= row.thisUpdate) return null;
  const pct = (t: number): number => Math.round(Math.min(100, Math.max(0, ((t - row.thisUpdate!) / (end - row.thisUpdate!)) * 100)) * 100) / 100;
  return { start: row.thisUpdate, end, refreshPct: row.nextRefreshAt === null ? null : pct(row.nextRefreshAt), nowPct: pct(now) };
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const iso = (t: number | null): string => (t === null ? '–' : new Date(t).toISOString().replace('.000Z', 'Z'));

/** The colour of a verdict: a quiet grey for OK states with nothing served yet (pending, no responder). */
function tone(row: StatusRow): 'ok' | 'warn' | 'bad' | 'idle' {
  if (row.verdict === 'CRITICAL') return 'bad';
  if (row.verdict === 'WARNING') return 'warn';
  return row.state === 'stapled' ? 'ok' : 'idle';
}

function card(row: StatusRow, now: number): string {
  const t = timeline(row, now);
  const e = (s: string | null): string => escapeHtml(s ?? '–');
  const bar = t
    ? `<div class="timeline" aria-label="staple lifetime">
  <div class="bar" data-start="${t.start}" data-end="${t.end}">${t.refreshPct === null ? '' : `<span class="refresh" style="left:${t.refreshPct}%" title="refresh ${iso(row.nextRefreshAt)}"></span>`}<span class="now" style="left:${t.nowPct}%" data-now="${now}" title="now"></span></div>
  <div class="ends"><span>${iso(t.start)}</span><span>${iso(t.end)}</span></div>
</div>`
    : `<p class="nobar">no staple to show</p>`;
  const problems = row.problems.length > 0 ? `<ul class="problems">${row.problems.map((p) => `<li>${escapeHtml(p)}</li>`).join('')}</ul>\n` : '';
  return `<article class="cert ${tone(row)}" data-verdict="${row.verdict}">
<h2><span class="badge">${escapeHtml(row.verdict === 'OK' ? row.summary : `${row.verdict}: ${row.summary}`)}</span> <span class="file">${e(row.file ?? row.subject)}</span></h2>
<dl>
<dt>subject</dt><dd>${e(row.subject)}</dd>
<dt>serial</dt><dd>${e(row.serial)}</dd>
<dt>state</dt><dd>${e(row.state)}${row.mustStaple ? ' (Must-Staple)' : ''}</dd>
<dt>certificate</dt><dd>${e(row.certStatus)}</dd>
<dt>next refresh</dt><dd>${iso(row.nextRefreshAt)}</dd>
<dt>failures</dt><dd>${row.failures}</dd>
<dt>last error</dt><dd>${e(row.lastError)}</dd>
</dl>
${problems}${bar}
</article>`;
}

const STYLE = `
*{box-sizing:border-box}
body{margin:0;padding:12px;font:14px/1.4 system-ui,sans-serif;color:#1b1f24;background:#f5f6f8}
h1{font-size:18px;margin:0 0 4px}
.facts{margin:0 0 12px;color:#555}
.cert{background:#fff;border-left:6px solid #8a8f98;border-radius:6px;padding:10px 12px;margin:0 0 12px;max-width:900px}
.cert.ok{border-color:#1f883d}.cert.warn{border-color:#bf8700}.cert.bad{border-color:#cf222e}
h2{font-size:15px;margin:0 0 6px;overflow-wrap:anywhere}
.badge{display:inline-block;font-size:12px;padding:1px 6px;border-radius:10px;background:#eaeef2}
.ok .badge{background:#dafbe1}.warn .badge{background:#fff8c5}.bad .badge{background:#ffebe9}
dl{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:2px 10px;margin:0 0 8px}
dt{color:#555}dd{margin:0;overflow-wrap:anywhere}
.bar{position:relative;height:12px;background:linear-gradient(90deg,#dafbe1,#fff8c5);border:1px solid #c9ced6;border-radius:6px}
.bar span{position:absolute;top:-4px;bottom:-4px;width:2px;margin-left:-1px}
.refresh{background:#0969da}.now{background:#cf222e;width:4px!important;margin-left:-2px!important}
.ends{display:flex;justify-content:space-between;gap:8px;font-size:11px;color:#555;flex-wrap:wrap}
.legend{font-size:12px;color:#555}
.nobar{color:#555;margin:0}
.facts,.unmanaged li,.problems li{overflow-wrap:anywhere}
.problems{margin:0 0 8px;padding-left:18px}
.summary{display:flex;flex-wrap:wrap;gap:4px 8px;margin:0 0 8px;padding:0;list-style:none}
.summary a{display:inline-block;padding:1px 8px;border-radius:10px;background:#eaeef2;color:inherit;text-decoration:none}
.summary .CRITICAL{background:#ffebe9}.summary .WARNING{background:#fff8c5}.summary .current{outline:2px solid #0969da}
form{display:flex;flex-wrap:wrap;gap:6px;margin:0 0 12px}
input,select,button{font:inherit;max-width:100%}
.pages{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin:0 0 12px}
.unmanaged{margin:0 0 12px;padding-left:18px;font-size:12px;color:#555}
`;

/** The summary: a link per verdict and per state, with its count, worst first. */
function summary(sel: Selection<Selectable>, q: StatusQuery): string {
  const link = (state: string | null, text: string, cls: string): string =>
    `<li><a class="${cls}${q.state === state ? ' current' : ''}" href="${escapeHtml(queryString({ ...q, state, page: 1 }) || '?')}">${escapeHtml(text)}</a></li>`;
  const levels = (['CRITICAL', 'WARNING', 'OK'] as const).map((l) => link(l, `${sel.byVerdict[l]} ${l}`, l));
  const states = [...sel.byState].sort((a, b) => b[1] - a[1]).map(([state, n]) => link(state, `${n} ${state}`, 'state'));
  return `<ul class="summary" aria-label="summary">${link(null, `${sel.total} in all`, 'all')}${levels.join('')}${states.join('')}</ul>`;
}

function filterForm(q: StatusQuery, states: Iterable<string>): string {
  const options = ['', 'CRITICAL', 'WARNING', 'OK', ...states]
    .map((s) => `<option value="${escapeHtml(s)}"${(q.state ?? '') === s ? ' selected' : ''}>${escapeHtml(s || 'every state')}</option>`)
    .join('');
  return `<form method="get" action=""><select name="state" aria-label="state">${options}</select><input name="name" type="search" placeholder="file or subject" aria-label="name" value="${escapeHtml(q.name ?? '')}"><button type="submit">Filter</button></form>`;
}

function pager(sel: Selection<Selectable>, q: StatusQuery): string {
  const from = sel.matched === 0 ? 0 : (sel.page - 1) * sel.pageSize + 1;
  const to = from === 0 ? 0 : from + sel.rows.length - 1;
  const go = (page: number, text: string): string => `<a href="${escapeHtml(queryString({ ...q, page }) || '?')}">${text}</a>`;
  return `<p class="pages">${sel.page > 1 ? go(sel.page - 1, '← previous') : ''}<span>${from}–${to} of ${sel.matched} (page ${sel.page} of ${sel.pages})</span>${sel.page < sel.pages ? go(sel.page + 1, 'next →') : ''}</p>`;
}

export function renderStatusPage<T extends Selectable = StatusRow>(page: StatusPage<T>, now: number, pageSize?: number): string {
  const q = page.query ?? ALL;
  const sel = selectRows(page.rows, q, pageSize);
  const toRow = page.toRow ?? ((r: T) => r as unknown as StatusRow);
  const cards = sel.rows.map((r) => card(toRow(r), now)).join('\n');
  const unmanaged = page.unmanaged?.length
    ? `<ul class="unmanaged" aria-label="unmanaged CertIDs">${page.unmanaged.map((u) => `<li>${escapeHtml(u)}</li>`).join('')}</ul>`
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="${Math.max(1, Math.round(page.refreshSeconds))}">
<title>${escapeHtml(page.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(page.title)}</h1>
<p class="facts">${page.facts.map(escapeHtml).join('<br>')}<br>as of ${iso(now)}</p>
${unmanaged}${summary(sel, q)}
${filterForm(q, sel.byState.keys())}
<p class="legend">Problems first. Bar: thisUpdate → nextUpdate; blue: planned refresh; red: now.</p>
${pager(sel, q)}
${cards || (sel.total === 0 ? '<p>No certificates.</p>' : '<p>No certificate matches.</p>')}
</body>
</html>
`;
}
