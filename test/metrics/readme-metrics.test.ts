// The documented metrics (README.md and docs/observability.md, read as one): every metric they
// name (in the tables and in the alert rules) is in a scrape, and every metric a scrape has is in a table.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { METRIC_NAMES, StaplerMetrics } from '../../src/metrics/metrics.ts';

const docs = ['../../README.md', '../../docs/observability.md'].map((p) => new URL(p, import.meta.url)).filter((u) => existsSync(u));
const readme = docs.map((u) => readFileSync(u, 'utf8')).join('\n');

describe('the README metrics', () => {
  it('names only metrics a scrape has, and lists every one of them', async () => {
    // As the library exports them (the daemon has all but stapler_handshakes_total).
    const text = await new StaplerMetrics().countHandshakes(() => ({ stapled: 0, unstapled: 0 })).text();
    const scraped = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
    assert.deepEqual([...scraped].sort(), [...METRIC_NAMES].sort());
    const named = new Set([...readme.matchAll(/\bstapler_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, '')));
    assert.deepEqual(
      [...named].filter((n) => !scraped.has(n)),
      [],
    );
    for (const name of METRIC_NAMES) assert.ok(readme.includes(`| \`${name}\` |`), `${name} is not in the README's table`);
  });

  it('has alert rules that parse, and whose expressions name real metrics', () => {
    const block = [...readme.matchAll(/```yaml\n(# prometheus rules[\s\S]*?)```/g)].map((m) => m[1]!)[0];
    assert.ok(block, 'the README has a rules block');
    const rules = (parse(block) as { groups: { rules: { alert: string; expr: string }[] }[] }).groups.flatMap((g) => g.rules);
    const alerts = rules.map((r) => r.alert);
    for (const a of ['StapleLapsesWithinAnHour', 'StapleRefreshFailing', 'CertificateRevoked', 'MustStapleAtRisk']) assert.ok(alerts.includes(a), a);
    for (const r of rules) {
      for (const m of r.expr.matchAll(/\bstapler_[a-z_]+/g)) assert.ok((METRIC_NAMES as readonly string[]).includes(m[0]), `${r.alert}: ${m[0]}`);
    }
  });
});
