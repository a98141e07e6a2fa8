// The status page: server-rendered HTML with no external assets and no script. Every value is
// escaped (file names and subjects come from certificates and paths an attacker may influence).
// A pure function of the rows and the time, so that tests and the screenshot are reproducible.

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
}

export interface StatusPage {
  readonly title: string;
  /** Lines under the title (e.g. the daemon's pid and start time). */
  readonly facts: readonly string[];
  readonly rows: readonly StatusRow[];
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

/** A word for the state a person reads first, and the colour class it gets. */
function verdict(row: StatusRow): { word: string; tone: 'ok' | 'warn' | 'bad' | 'idle' } {
  if (row.certStatus === 'revoked') return { word: 'REVOKED', tone: 'bad' };
  switch (row.state) {
    case 'stapled':
      return { word: 'stapled', tone: 'ok' };
    case 'stapled-refresh-failing':
      return { word: 'stapled, refresh failing', tone: 'warn' };
    case 'unstapled':
      return { word: 'no staple', tone: row.mustStaple ? 'bad' : 'warn' };
    case 'pending':
      return { word: 'waiting for a first staple', tone: 'idle' };
    case 'no-responder':
      return { word: 'no OCSP responder', tone: row.mustStaple ? 'bad' : 'idle' };
    default:
      return { word: row.state, tone: 'warn' };
  }
}

function card(row: StatusRow, now: number): string {
  const v = verdict(row);
  const t = timeline(row, now);
  const e = (s: string | null): string => escapeHtml(s ?? '–');
  const bar = t
    ? `<div class="timeline" aria-label="staple lifetime">
  <div class="bar" data-start="${t.start}" data-end="${t.end}">${t.refreshPct === null ? '' : `<span class="refresh" style="left:${t.refreshPct}%" title="refresh ${iso(row.nextRefreshAt)}"></span>`}<span class="now" style="left:${t.nowPct}%" data-now="${now}" title="now"></span></div>
  <div class="ends"><span>${iso(t.start)}</span><span>${iso(t.end)}</span></div>
</div>`
    : `<p class="nobar">no staple to show</p>`;
  return `<article class="cert ${v.tone}">
<h2><span class="badge">${escapeHtml(v.word)}</span> <span class="file">${e(row.file ?? row.subject)}</span></h2>
<dl>
<dt>subject</dt><dd>${e(row.subject)}</dd>
<dt>serial</dt><dd>${e(row.serial)}</dd>
<dt>state</dt><dd>${e(row.state)}${row.mustStaple ? ' (Must-Staple)' : ''}</dd>
<dt>certificate</dt><dd>${e(row.certStatus)}</dd>
<dt>next refresh</dt><dd>${iso(row.nextRefreshAt)}</dd>
<dt>failures</dt><dd>${row.failures}</dd>
<dt>last error</dt><dd>${e(row.lastError)}</dd>
</dl>
${bar}
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
`;

export function renderStatusPage(page: StatusPage, now: number): string {
  const cards = page.rows.map((r) => card(r, now)).join('\n');
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
<p class="legend">Bar: thisUpdate → nextUpdate; blue: planned refresh; red: now.</p>
${cards || '<p>No certificates.</p>'}
</body>
</html>
`;
}
