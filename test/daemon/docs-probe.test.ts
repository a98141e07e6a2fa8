// The stapling probe's docs: the metric table lists exactly what a probe emits; the blackbox-style
// scrape job, relabelled as Prometheus does, asks the daemon of the page's configuration for
// /probe URLs that its allow-list admits; and the alert rules name only metrics, labels and label
// values the probe emits.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { parseIp, inCidr } from '../../src/check/ip-ranges.ts';
import { hostMatches } from '../../src/check/probe-allow.ts';
import { PROBE_METRICS, PROBE_VERDICTS } from '../../src/check/probe-metrics.ts';
import { parseTarget } from '../../src/check/probe.ts';
import { parseConfig } from '../../src/daemon/config.ts';
import { REJECT_REASONS } from '../../src/ocsp/verify.ts';
import { example, examples, ROOT } from '../support/doc-examples.ts';

const PAGE = 'docs/observability.md';
const page = readFileSync(join(ROOT, PAGE), 'utf8');
/** Every value each label of each probe metric can take. */
const LABELS: Record<string, Record<string, readonly string[]>> = {
  probe_ocsp_verdict: {
    verdict: PROBE_VERDICTS,
    reason: [
      ...REJECT_REASONS,
      'good',
      'revoked',
      'issuer-not-presented',
      'no-staple',
      'no-responder',
      'timeout',
      'connect',
      'tls',
      'not-tls',
      'dns',
      'no-certificate',
    ],
  },
  probe_ocsp_cert_status: { status: ['good', 'revoked'] },
};
/** Labels Prometheus adds (instance, job) and the daemon's targets carry. */
const TARGET_LABELS = ['instance', 'job', 'target', 'servername'];

const probeConfigOfPage = (): NonNullable<ReturnType<typeof parseConfig>['probe']> & { listen: string } => {
  const block = examples('daemon-config').find((e) => e.file === PAGE && /^probe:/m.test(e.code));
  assert.ok(block, 'the page has a daemon configuration with probe');
  const config = parseConfig(block.code, PAGE, '/etc/stapler');
  assert.ok(config.probe?.allow && config.listen);
  return { ...config.probe, listen: `${config.listen.host}:${config.listen.port}` };
};

describe("the stapling probe's docs", () => {
  it('list every metric a probe emits, and no other', () => {
    const listed = [...page.matchAll(/^\| `(probe_[a-z_]+)` \|/gm)].map((m) => m[1]);
    assert.deepEqual(listed.sort(), Object.keys(PROBE_METRICS).sort());
  });

  it('scrape /probe on the daemon with targets its allow-list admits', () => {
    const config = probeConfigOfPage();
    const job = (
      parse(example('prometheus-probe-scrape', PAGE).code) as {
        scrape_configs: {
          metrics_path: string;
          scrape_timeout: string;
          static_configs: { targets: string[]; labels?: Record<string, string> }[];
          relabel_configs: { source_labels?: string[]; target_label: string; replacement?: string }[];
        }[];
      }
    ).scrape_configs[0]!;
    assert.equal(job.metrics_path, '/probe');
    assert.ok(Number.parseInt(job.scrape_timeout) * 1000 > config.timeoutMs, 'the scrape waits longer than a probe may take');
    for (const group of job.static_configs) {
      for (const address of group.targets) {
        // Relabel as Prometheus does: each rule copies its source label (or sets its replacement).
        const labels: Record<string, string> = { __address__: address, ...group.labels };
        for (const r of job.relabel_configs) labels[r.target_label] = r.replacement ?? labels[r.source_labels![0]!]!;
        assert.equal(labels.__address__, config.listen, 'the scrape goes to the listen address of the configuration');
        assert.equal(labels.instance, address);
        const params = Object.entries(labels).filter(([k]) => k.startsWith('__param_'));
        for (const [k] of params) assert.ok(['__param_target', '__param_servername'].includes(k), k);
        const target = parseTarget(labels.__param_target!);
        assert.ok(config.allow!.ports.includes(target.port), `${address}: the port is allowed`);
        const ip = parseIp(target.host);
        const admitted = ip ? config.allow!.cidrs.some((c) => inCidr(ip, c)) : config.allow!.hosts.some((h) => hostMatches(h, target.host));
        assert.ok(admitted, `${address} is admitted by the page's allow-list`);
      }
    }
  });

  it('have alert rules that name only metrics, labels and values the probe emits', () => {
    const rules = (parse(example('prometheus-probe-rules', PAGE).code) as { groups: { rules: { alert: string; expr: string }[] }[] }).groups.flatMap(
      (g) => g.rules,
    );
    assert.ok(rules.length >= 5);
    for (const r of rules) {
      const selectors = [...r.expr.matchAll(/\b(probe_[a-z_]+)(?:\{([^}]*)\})?/g)];
      assert.ok(selectors.length > 0, `${r.alert} names a probe metric`);
      for (const [, name, matchers] of selectors) {
        assert.ok(name! in PROBE_METRICS, `${r.alert}: ${name} is not a probe metric`);
        for (const m of (matchers ?? '').matchAll(/(\w+)\s*(=~|!=|=)\s*"([^"]*)"/g)) {
          const [, label, , value] = m;
          const values = LABELS[name!]?.[label!];
          assert.ok(values, `${r.alert}: ${name} has no label ${label}`);
          for (const v of value!.split('|')) assert.ok(values.includes(v), `${r.alert}: ${label}="${v}" is never emitted`);
        }
      }
      for (const m of r.expr.matchAll(/ignoring\(([^)]*)\)/g))
        for (const l of m[1]!.split(',').map((x) => x.trim())) assert.ok(Object.values(LABELS).some((ls) => l in ls) || TARGET_LABELS.includes(l), l);
    }
  });
});
