// One verdict everywhere: for each state a certificate can be in, driven on a real engine (fake
// clock, signed responses), /healthz, /status.json (the daemon's file state), the status page,
// `stapler status` and /metrics say the same verdict, with the same problem lines.

import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { statusCommand } from '../../src/cli/commands/status.ts';
import { statusRow } from '../../src/daemon/http/observe-routes.ts';
import { renderStatusPage } from '../../src/daemon/http/status-page.ts';
import { fileState, type FileState } from '../../src/daemon/state.ts';
import type { CertificateStatus } from '../../src/engine/types.ts';
import type { OutputHealth, VerdictLevel } from '../../src/engine/verdict.ts';
import { judgeHealth } from '../../src/metrics/certificate-risk.ts';
import { StaplerMetrics } from '../../src/metrics/metrics.ts';
import { DAY, makeRig, MIN, type Rig } from '../support/engine-rig.ts';
import { fullchain, makePki, type Issued, type TestPki } from '../support/pki.ts';
import { parseSamples, sample } from '../support/prom-text.ts';
import { failure, success } from '../support/scripted-fetcher.ts';

let pki: TestPki;
before(async () => {
  pki = await makePki({ ocspUrl: 'http://127.0.0.1:9/ocsp' });
});

interface Scenario {
  readonly name: string;
  readonly expected: VerdictLevel;
  readonly summary: string;
  readonly leaf?: (p: TestPki) => Issued;
  /** Drive the rig's engine to the state (the certificate is added here). */
  readonly drive: (rig: Rig, chain: string) => Promise<void>;
  readonly outputs?: readonly OutputHealth[];
}

const good = async (rig: Rig, chain: string): Promise<void> => {
  await rig.stapler.add(chain);
  await rig.stapler.idle();
};

const SCENARIOS: readonly Scenario[] = [
  { name: 'good', expected: 'OK', summary: 'stapled', drive: good },
  {
    name: 'revoked',
    expected: 'CRITICAL',
    summary: 'REVOKED',
    drive: async (rig, chain) => {
      rig.fetcher.script = () => success(rig.respond(pki.leaf, { status: 'revoked', revocationTime: new Date(rig.clock.now() - DAY) }));
      await good(rig, chain);
    },
  },
  {
    name: 'unknown from the responder',
    expected: 'CRITICAL',
    summary: 'no staple',
    drive: async (rig, chain) => {
      rig.fetcher.script = () => success(rig.respond(pki.leaf, { status: 'unknown' }));
      await good(rig, chain);
    },
  },
  {
    name: 'pending',
    expected: 'OK',
    summary: 'waiting for a first staple',
    drive: async (rig, chain) => {
      rig.fetcher.hold = true;
      await rig.stapler.add(chain);
    },
  },
  {
    name: 'expired and dropped',
    expected: 'CRITICAL',
    summary: 'no staple',
    drive: async (rig, chain) => {
      rig.fetcher.script = () => success(rig.respond(pki.leaf, { nextUpdate: new Date(rig.clock.now() + 90 * MIN) }));
      await good(rig, chain);
      rig.fetcher.script = () => failure('fetch-timeout', 'no answer');
      await rig.clock.advance(3 * 60 * MIN);
      await rig.stapler.idle();
    },
  },
  {
    name: 'failing with a staple',
    expected: 'WARNING',
    summary: 'refresh failing',
    drive: async (rig, chain) => {
      await good(rig, chain);
      rig.fetcher.script = () => failure('fetch-http-status', 'HTTP 500');
      await rig.stapler.refreshNow(chain);
    },
  },
  {
    name: 'failing without a staple',
    expected: 'CRITICAL',
    summary: 'no staple',
    drive: async (rig, chain) => {
      rig.fetcher.script = () => failure('fetch-network', 'connection refused');
      await good(rig, chain);
    },
  },
  {
    name: 'Must-Staple at risk',
    expected: 'CRITICAL',
    summary: 'staple lapsing',
    leaf: (p) => p.mustStapleLeaf,
    drive: async (rig, chain) => {
      rig.fetcher.script = () => success(rig.respond(pki.mustStapleLeaf, { nextUpdate: new Date(rig.clock.now() + 40 * MIN) }));
      await good(rig, chain);
      rig.fetcher.script = () => failure('fetch-timeout', 'no answer');
      await rig.stapler.refreshNow(chain);
    },
  },
  {
    name: 'no issuer',
    expected: 'WARNING',
    summary: 'issuer unknown',
    drive: async (rig) => {
      await rig.stapler.add(fullchain(pki.leaf));
    },
  },
  {
    name: 'output failed',
    expected: 'WARNING',
    summary: 'output failed',
    drive: good,
    outputs: [{ kind: 'staple file', target: '/etc/ssl/site.pem.ocsp', ok: false, error: 'EROFS: read-only file system', since: 0 }],
  },
];

interface Seen {
  scenario: Scenario;
  status: CertificateStatus;
  file: FileState;
  metrics: StaplerMetrics;
}

async function see(scenario: Scenario): Promise<Seen & { close: () => Promise<void> }> {
  const rig = makeRig(pki);
  const leaf = scenario.leaf?.(pki) ?? pki.leaf;
  const path = `/etc/ssl/${scenario.name.replaceAll(' ', '-')}.pem`;
  const outputs = scenario.outputs ?? [];
  const metrics = new StaplerMetrics({ certLabels: () => () => path, outputsOf: () => () => outputs }).observe(rig.stapler);
  await scenario.drive(rig, fullchain(leaf, pki.intermediate));
  const status = rig.stapler.status()[0]!;
  const file = fileState(
    { path, stapleFile: `${path}.ocsp`, written: null, subject: leaf.cert.subject, serial: leaf.cert.serialHex, error: null },
    status,
    rig.clock.now(),
    outputs,
  );
  const close = async (): Promise<void> => {
    rig.fetcher.hold = false;
    await rig.stapler.close();
  };
  return { scenario, status, file, metrics, close };
}

describe('one verdict everywhere', () => {
  it('the engine, /status.json, /healthz, the page, `stapler status` and /metrics agree for every state', async () => {
    const seen: Seen[] = [];
    for (const scenario of SCENARIOS) {
      const s = await see(scenario);
      try {
        const { file, status } = s;
        const where = scenario.name;
        // The engine's verdict (outputs aside: the daemon adds those) and the daemon's file state.
        assert.equal(file.verdict, scenario.expected, `${where}: /status.json`);
        assert.equal(file.summary, scenario.summary, `${where}: summary`);
        if (!scenario.outputs) assert.deepEqual([status.verdict, status.problems], [file.verdict, file.problems], `${where}: engine`);
        assert.equal(file.problems.length > 0, scenario.expected !== 'OK', `${where}: a problem line for each problem`);
        // /healthz: 503 exactly when CRITICAL, with the same lines, naming the file.
        const health = judgeHealth([file], (f) => f.file);
        assert.equal(health.healthy, scenario.expected !== 'CRITICAL', `${where}: /healthz`);
        assert.deepEqual(
          health.problems,
          file.problems.map((p) => `${file.file}: ${p}`),
          `${where}: /healthz lines`,
        );
        // The page: the card's verdict and badge.
        const html = renderStatusPage({ title: 'Stapler', facts: [], rows: [file], toRow: statusRow, refreshSeconds: 30 }, Date.now());
        assert.match(html, new RegExp(`data-verdict="${scenario.expected}"`), `${where}: page`);
        assert.ok(html.includes(`>${scenario.expected === 'OK' ? '' : `${scenario.expected}: `}${scenario.summary}</span>`), `${where}: badge`);
        // /metrics: the certificate's verdict series and the count by verdict.
        const samples = parseSamples(await s.metrics.text());
        // Series of its own by default: with a problem, or a staple among the soonest to lapse (not pending).
        const own = samples.filter((x) => x.name === 'stapler_certificate_verdict');
        const expectOwn = scenario.expected !== 'OK' || status.serving;
        assert.deepEqual(
          own.map((x) => [x.labels.cert, x.labels.verdict, x.value]),
          expectOwn ? [[file.file, scenario.expected, 1]] : [],
          `${where}: metrics`,
        );
        assert.equal(sample(samples, 'stapler_certificates_by_verdict', { verdict: scenario.expected }), 1, `${where}: metrics count`);
        seen.push(s);
      } finally {
        await s.close();
      }
    }
    // `stapler status`, from a state file holding every one of them.
    const dir = await mkdtemp(join(tmpdir(), 'stapler-verdict-'));
    const state = (files: FileState[]) => ({
      pid: process.pid,
      startedAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
      certificates: files.length,
      unusable: 0,
      reloads: 0,
      reloadFailures: 0,
      configReloads: 0,
      configReloadsRefused: 0,
      files,
    });
    await writeFile(join(dir, 'all.json'), JSON.stringify(state(seen.map((s) => s.file))));
    let out = '';
    const code = await statusCommand({ state: join(dir, 'all.json'), json: true }, { out: (t) => (out += t), log: () => undefined });
    assert.equal(code, 2);
    const cli = JSON.parse(out) as { files: { file: string; verdict: string; problems: string[] }[] };
    assert.deepEqual(
      cli.files.map((f) => [f.file, f.verdict, f.problems]),
      seen.map((s) => [s.file.file, s.scenario.expected, s.file.problems]),
    );
    for (const s of seen) {
      await writeFile(join(dir, 'one.json'), JSON.stringify(state([s.file])));
      let text = '';
      const one = await statusCommand({ state: join(dir, 'one.json') }, { out: (t) => (text += t), log: () => undefined });
      assert.equal(one, { OK: 0, WARNING: 1, CRITICAL: 2 }[s.scenario.expected], `${s.scenario.name}: exit code`);
      assert.ok(text.startsWith(`${s.scenario.expected}: `), `${s.scenario.name}: line 1: ${text.split('\n')[0]}`);
    }
  });
});
