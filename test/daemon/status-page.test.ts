// The status page in a real headless Chromium (Debian's, driven by playwright-core): every
// certificate is shown, each timeline's "now" marker sits where the time says, nothing scrolls
// sideways at 360 px, and a screenshot is saved under test-output/.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { escapeHtml, renderStatusPage, timeline, type StatusRow } from '../../src/daemon/http/status-page.ts';
import { CHROMIUM, peerSkip } from '../support/peers.ts';

const OUT = new URL('../../test-output/', import.meta.url).pathname;
const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);

const row = (over: Partial<StatusRow>): StatusRow => ({
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
  ...over,
});

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
      await page.setContent(renderStatusPage({ title: 'Stapler', facts, rows: SAMPLE_ROWS, refreshSeconds: 3600 }, NOW));
      assert.equal(await page.locator('article.cert').count(), SAMPLE_ROWS.length);
      assert.deepEqual(
        await page.locator('.file').allTextContents(),
        SAMPLE_ROWS.map((r) => r.file),
      );
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
