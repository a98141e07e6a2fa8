// The status page in a real headless Chromium (Debian's, driven by playwright-core): every
// certificate is shown, each timeline's "now" marker sits where the time says, nothing scrolls
// sideways at 360 px, and a screenshot is saved under test-output/.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { escapeHtml, renderStatusPage, timeline, type StatusRow } from '../../src/daemon/http/status-page.ts';
import { CHROMIUM, peerSkip } from '../support/peers.ts';
import { parseStatusQuery, selectRows } from '../../src/daemon/http/status-query.ts';
import type { CertificateState } from '../../src/engine/types.ts';
import { judge } from '../../src/engine/verdict.ts';

const OUT = new URL('../../test-output/', import.meta.url).pathname;
const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);

const row = (over: Partial<StatusRow>): StatusRow => {
  const r: StatusRow = {
    file: '/etc/ssl/private/www.example.com.pem',
    subject: 'CN=www.example.com',
    serial: '04a1b2c3d4e5f60718293a4b5c6d7e8f',
    state: 'stapled',
    certStatus: 'good',
    mustStaple: false,
    thisUpdate: NOW - 24 * HOUR,
    nextUpdate: NOW + 72 * HOUR,
    validUntil: NOW + 72 * HOUR,
    nextRefreshAt: NOW + 24 * HOUR,
    lastError: null,
    failures: 0,
    verdict: 'OK',
    summary: '',
    problems: [],
    ...over,
  };
  const lastError = r.lastError ? { reason: r.lastError.split(':')[0]!, message: r.lastError } : null;
  return { ...r, ...judge({ ...r, state: r.state as CertificateState, lastError }, NOW) };
};

/** The rows of the page: each state, long unbroken names, and names that try to be HTML. */
export const SAMPLE_ROWS: StatusRow[] = [
  row({}),
  row({
    file: '/etc/haproxy/certs/a-very-long-certificate-file-name-for-the-api-gateway-of-the-payments-platform.pem',
    subject: 'CN=payments-api.internal.example.org,O=Example Payments Limited,C=GB',
    mustStaple: true,
    state: 'stapled-refresh-failing',
    thisUpdate: NOW - 90 * HOUR,
    nextUpdate: NOW + 6 * HOUR,
    validUntil: NOW + 6 * HOUR,
    nextRefreshAt: NOW + 10 * 60_000,
    lastError: 'fetch-timeout: no answer from http://ocsp.example.org/ within 5000 ms',
    failures: 4,
  }),
  row({
    file: '/etc/ssl/<script>alert(1)</script>.pem',
    subject: 'CN="><img src=x onerror=alert(1)>',
    certStatus: 'revoked',
    thisUpdate: NOW - HOUR,
    nextUpdate: NOW + 3 * HOUR,
  }),
  row({
    file: '/etc/ssl/new.pem',
    state: 'unstapled',
    mustStaple: true,
    certStatus: null,
    thisUpdate: null,
    nextUpdate: null,
    validUntil: null,
    lastError: 'try-later: the responder says try later',
    failures: 2,
  }),
  row({ file: '/etc/ssl/internal.pem', state: 'no-responder', certStatus: null, thisUpdate: null, nextUpdate: null, validUntil: null, nextRefreshAt: null }),
];

describe('the status page (pure)', () => {
  it('escapes what files and subjects say', () => {
    const html = renderStatusPage({ title: 'Stapler', facts: [], rows: SAMPLE_ROWS, refreshSeconds: 30 }, NOW);
    assert.ok(!html.includes('<script>alert'), 'a file name cannot open a script');
    assert.ok(!html.includes('<img'), 'a subject cannot add an element');
    assert.ok(html.includes(escapeHtml('/etc/ssl/<script>alert(1)</script>.pem')));
    assert.doesNotMatch(html, /<script|<link|@import|url\(/);
  });
  it('places the markers on the bar as percentages of thisUpdate → nextUpdate', () => {
    assert.deepEqual(timeline(SAMPLE_ROWS[0]!, NOW), { start: NOW - 24 * HOUR, end: NOW + 72 * HOUR, refreshPct: 50, nowPct: 25 });
    assert.equal(timeline(SAMPLE_ROWS[0]!, NOW + 1000 * HOUR)!.nowPct, 100, 'clamped');
    assert.equal(timeline(SAMPLE_ROWS[3]!, NOW), null, 'no staple, no bar');
  });
});

describe('the status page in Chromium', () => {
  it('shows every certificate, puts "now" where the time says, and needs no sideways scroll at 360 px', async (t) => {
    const missing = peerSkip('chromium');
    if (missing) return t.skip(missing);
    const { chromium } = await import('playwright-core');
    const args = process.getuid?.() === 0 ? ['--no-sandbox'] : [];
    const browser = await chromium.launch({ executablePath: CHROMIUM, args, timeout: 60_000 });
    try {
      const page = await browser.newPage({ viewport: { width: 360, height: 800 }, javaScriptEnabled: false });
      const facts = ['daemon pid 4242, started 2026-11-22T06:00:00.000Z', '5 certificate(s), 0 unusable file(s)'];
      const unmanaged = [`sha256 issuer name hash ${'ab'.repeat(32)}, issuer key hash ${'cd'.repeat(32)}, serial ${'0f'.repeat(20)}: 3 request(s)`];
      await page.setContent(renderStatusPage({ title: 'Stapler', facts, rows: SAMPLE_ROWS, unmanaged, refreshSeconds: 3600 }, NOW));
      assert.equal(await page.locator('article.cert').count(), SAMPLE_ROWS.length);
      // Problems first: CRITICAL (the revoked and the Must-Staple one without a staple), WARNING, then OK.
      assert.deepEqual(await page.locator('article.cert').evaluateAll((els) => els.map((e) => e.getAttribute('data-verdict'))), [
        'CRITICAL',
        'CRITICAL',
        'WARNING',
        'OK',
        'OK',
      ]);
      assert.deepEqual((await page.locator('.file').allTextContents()).sort(), SAMPLE_ROWS.map((r) => r.file).sort());
      assert.equal(await page.locator('.unmanaged li').count(), 1);
      // The markers: the middle of "now" is at nowPct of the bar's inner width.
      const bars = page.locator('.bar');
      assert.equal(await bars.count(), 3);
      for (let i = 0; i < 3; i++) {
        const bar = (await bars.nth(i).boundingBox())!;
        const marker = (await bars.nth(i).locator('.now').boundingBox())!;
        const start = Number(await bars.nth(i).getAttribute('data-start'));
        const end = Number(await bars.nth(i).getAttribute('data-end'));
        const expected = bar.x + 1 + ((NOW - start) / (end - start)) * (bar.width - 2);
        assert.ok(Math.abs(marker.x + marker.width / 2 - expected) <= 1, `bar ${i}: marker at ${marker.x + marker.width / 2}, expected ${expected}`);
      }
      const { scrollWidth, clientWidth } = await page.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        clientWidth: document.documentElement.clientWidth,
      }));
      assert.ok(scrollWidth <= clientWidth, `scrolls sideways: ${scrollWidth} > ${clientWidth}`);
      mkdirSync(OUT, { recursive: true });
      await page.screenshot({ path: join(OUT, 'status-page.png'), fullPage: true });
      assert.ok(existsSync(join(OUT, 'status-page.png')));
    } finally {
      await browser.close();
    }
  });
});

describe('the status page at scale', () => {
  const many = Array.from({ length: 1_000 }, (_x, i) =>
    row({
      file: `/etc/ssl/many/host-${i}.pem`,
      subject: `CN=host-${i}.example.com`,
      ...(i % 100 === 7 ? { state: 'unstapled', thisUpdate: null, validUntil: null } : {}),
    }),
  );

  it('counts every verdict and state, shows problems first, one page at a time', () => {
    const sel = selectRows(many, parseStatusQuery(new URLSearchParams('')));
    assert.deepEqual([sel.total, sel.matched, sel.pages, sel.rows.length], [1_000, 1_000, 20, 50]);
    assert.deepEqual(sel.byVerdict, { CRITICAL: 10, WARNING: 0, OK: 990 });
    assert.equal(sel.byState.get('unstapled'), 10);
    assert.deepEqual(
      sel.rows.slice(0, 11).map((r) => r.verdict),
      [...Array(10).fill('CRITICAL'), 'OK'],
    );
    const last = selectRows(many, parseStatusQuery(new URLSearchParams('page=999')));
    assert.deepEqual([last.page, last.rows.length, last.rows.at(-1)!.file], [20, 50, '/etc/ssl/many/host-999.pem']);
  });

  it('filters by verdict, by state and by name (case-insensitive), and bounds what it is given', () => {
    assert.equal(selectRows(many, parseStatusQuery(new URLSearchParams('state=critical'))).matched, 10);
    assert.equal(selectRows(many, parseStatusQuery(new URLSearchParams('state=unstapled'))).matched, 10);
    assert.equal(selectRows(many, parseStatusQuery(new URLSearchParams('name=HOST-99'))).matched, 11);
    assert.equal(selectRows(many, parseStatusQuery(new URLSearchParams('name=host-107&state=OK'))).matched, 0);
    const q = parseStatusQuery(new URLSearchParams(`name=${'x'.repeat(10_000)}&page=-5`));
    assert.deepEqual([q.name!.length, q.page], [200, 1]);
  });

  it('ships one page of cards whatever the number of certificates, with links to the others', () => {
    const html = renderStatusPage({ title: 'Stapler', facts: [], rows: many, query: parseStatusQuery(new URLSearchParams('page=2')), refreshSeconds: 30 }, NOW);
    assert.equal(html.match(/<article /g)!.length, 50);
    assert.match(html, /51–100 of 1000 \(page 2 of 20\)/);
    assert.match(html, /href="\?page=3"/);
    assert.match(html, /href="\?state=CRITICAL"/);
  });
});
