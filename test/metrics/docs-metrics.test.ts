// The metrics in docs/observability.md: every metric the docs name (in the table and in the alert
// rules) is in a scrape, every metric a scrape has is in the table, the alert rules parse, and
// the scrape configuration points at the listener the page's configuration opens.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { METRIC_NAMES, StaplerMetrics } from '../../src/metrics/metrics.ts';
import { docPages, example, examples, ROOT } from '../support/doc-examples.ts';

const page = readFileSync(join(ROOT, 'docs/observability.md'), 'utf8');
const everyPage = docPages()
  .map((p) => readFileSync(join(ROOT, p), 'utf8'))
  .join('\n');

describe('the metrics in the docs', () => {
  it('names only metrics a scrape has, and the table lists every one of them', async () => {
    // As the library exports them (the daemon has all but stapler_handshakes_total).
    const text = await new StaplerMetrics().countHandshakes(() => ({ stapled: 0, unstapled: 0 })).text();
    const scraped = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
    assert.deepEqual([...scraped].sort(), [...METRIC_NAMES].sort());
    const named = new Set([...everyPage.matchAll(/\bstapler_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, '')));
    assert.deepEqual(
      [...named].filter((n) => !scraped.has(n)),
      [],
    );
    for (const name of METRIC_NAMES) assert.ok(page.includes(`| \`${name}\` |`), `${name} is not in the table of docs/observability.md`);
  });

  it('has alert rules that parse, and whose expressions name real metrics', () => {
    const rules = (
      parse(example('prometheus-rules', 'docs/observability.md').code) as { groups: { rules: { alert: string; expr: string }[] }[] }
    ).groups.flatMap((g) => g.rules);
    const alerts = rules.map((r) => r.alert);
    for (const a of ['StapleLapsesWithinAnHour', 'StapleRefreshFailing', 'CertificateRevoked', 'MustStapleAtRisk']) assert.ok(alerts.includes(a), a);
    for (const r of rules) {
      for (const m of r.expr.matchAll(/\bstapler_[a-z_]+/g)) assert.ok((METRIC_NAMES as readonly string[]).includes(m[0]), `${r.alert}: ${m[0]}`);
    }
  });

  it("has a scrape configuration for the address the page's daemon configuration listens on", () => {
    const scrape = parse(example('prometheus-scrape', 'docs/observability.md').code) as {
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    const job = scrape.scrape_configs[0]!;
    const listens = examples('daemon-config')
      .filter((e) => e.file === 'docs/observability.md')
      .map((e) => /^listen: (\S+)/m.exec(e.code)?.[1]);
    assert.deepEqual(job.static_configs[0]!.targets, [listens[0]]);
    assert.match(page, new RegExp(`up\\{job="${job.job_name}"\\}`), 'the StaplerDown rule names the scrape job');
  });
});
