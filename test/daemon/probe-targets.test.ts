// probe.targets: probed on an interval (on the fake clock), the last results in /metrics with a
// target label; `stapler check --format prometheus` prints what /probe answers (one judgement,
// two faces); and the probe section's configuration errors name the key.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { assembleDaemon } from '../../src/daemon/assemble.ts';
import { checkCommand } from '../../src/cli/commands/check.ts';
import { checkConfigFiles } from '../../src/daemon/check-config.ts';
import { buildConfig } from '../../src/daemon/config.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { captureLogger } from '../support/log-capture.ts';
import { makePki, type TestPki } from '../support/pki.ts';
import { parseSamples, sample, type Sample } from '../support/prom-text.ts';
import { buildResponse } from '../support/responses.ts';
import { hangingServer, stapleServer, type TestServer } from '../support/staple-server.ts';
import { waitFor } from '../support/wait.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const HOUR = 3_600_000;
let pki: TestPki;
let dir: string;
let server: TestServer;
let current: Buffer | null = null;
let sound: Buffer;
let expired: Buffer;

before(async () => {
  pki = await makePki({ ocspUrl: 'http://127.0.0.1:9/ocsp' });
  dir = await mkdtemp(join(tmpdir(), 'stapler-probe-targets-'));
  await mkdir(join(dir, 'certs'));
  await writeFile(join(dir, 'root.pem'), pki.root.pem);
  const now = Date.now();
  sound = buildResponse({ cert: pki.leaf, issuer: pki.intermediate, thisUpdate: new Date(now - 60_000), nextUpdate: new Date(now + 24 * HOUR) });
  expired = buildResponse({ cert: pki.leaf, issuer: pki.intermediate, thisUpdate: new Date(now - 48 * HOUR), nextUpdate: new Date(now - HOUR) });
  current = sound;
  server = await stapleServer(pki.leaf, [pki.intermediate], () => current);
});
after(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

const configWith = (probe: Record<string, unknown>): ReturnType<typeof buildConfig> =>
  buildConfig(
    { certificates: [join(dir, 'certs', '*.pem')], stateFile: join(dir, 'state.json'), storeDir: join(dir, 'store'), listen: '127.0.0.1:0', probe },
    dir,
  );

/** The samples that do not depend on when or how fast the probe ran. */
const stable = (samples: Sample[]): string[] =>
  samples
    .filter((s) => !/duration|next_update|this_update/.test(s.name))
    .map((s) => `${s.name}${JSON.stringify(Object.fromEntries(Object.entries(s.labels).filter(([k]) => k !== 'target' && k !== 'servername')))} ${s.value}`)
    .sort();

describe('probe.targets', () => {
  it('are probed at the start and every intervalMs, their last results in /metrics', async (t) => {
    current = sound;
    const clock = new FakeClock(Date.now());
    const config = configWith({
      ca: 'root.pem',
      intervalMs: 60_000,
      targets: [`leaf.test:${server.port}`, { target: `127.0.0.1:${server.port}`, servername: 'leaf.test' }],
    });
    const { service } = assembleDaemon(config, captureLogger().logger, { clock, probeLookup: async () => ['127.0.0.1'] });
    t.after(() => service.stop());
    await service.start();
    const metrics = async (): Promise<Sample[]> => parseSamples(await (await request(`http://127.0.0.1:${service.address()!.port}/metrics`)).body.text());
    assert.ok(!(await metrics()).some((s) => s.name === 'probe_success'), 'nothing before the first round');
    await clock.advance(0);
    await service.probes.settled();
    let m = await metrics();
    assert.equal(sample(m, 'probe_success', { target: `leaf.test:${server.port}`, servername: '' }), 1);
    assert.equal(sample(m, 'probe_ocsp_verdict', { target: `127.0.0.1:${server.port}`, servername: 'leaf.test', verdict: 'valid', reason: 'good' }), 1);
    assert.ok(
      m.some((s) => s.name === 'stapler_build_info'),
      "the daemon's own metrics are still there",
    );

    current = expired;
    await clock.advance(59_000);
    await service.probes.settled();
    assert.equal(sample(await metrics(), 'probe_success', { target: `leaf.test:${server.port}` }), 1, 'not probed again before the interval');
    await clock.advance(1_000);
    await service.probes.settled();
    m = await metrics();
    assert.equal(sample(m, 'probe_ocsp_verdict', { target: `leaf.test:${server.port}`, verdict: 'invalid', reason: 'expired' }), 1);
    assert.equal(sample(m, 'probe_success', { target: `127.0.0.1:${server.port}` }), 0);
    current = sound;
  });

  it('`stapler check --format prometheus` prints what /probe answers for the same server', async (t) => {
    current = sound;
    const config = configWith({ ca: 'root.pem', allow: { hosts: ['leaf.test'], cidrs: ['127.0.0.1/32'], ports: [server.port] } });
    const { service } = assembleDaemon(config, captureLogger().logger, { probeLookup: async () => ['127.0.0.1'] });
    t.after(() => service.stop());
    await service.start();
    for (const staple of [sound, expired, null]) {
      current = staple;
      const viaDaemon = parseSamples(await (await request(`http://127.0.0.1:${service.address()!.port}/probe?target=leaf.test:${server.port}`)).body.text());
      const cli = await new Promise<{ code: number; stdout: string }>((resolve) =>
        execFile(
          process.execPath,
          [
            '--import',
            'tsx',
            join(ROOT, 'src/cli/main.ts'),
            'check',
            `127.0.0.1:${server.port}`,
            '--servername',
            'leaf.test',
            '--ca',
            join(dir, 'root.pem'),
            '--format',
            'prometheus',
          ],
          { cwd: ROOT, encoding: 'utf8' },
          (err, stdout) => resolve({ code: err ? Number(err.code) : 0, stdout }),
        ),
      );
      assert.equal(cli.code, staple === sound ? 0 : 1, cli.stdout);
      assert.deepEqual(stable(parseSamples(cli.stdout)), stable(viaDaemon));
      assert.match(cli.stdout, /^# HELP probe_success /m);
    }
    current = sound;
  });
});

describe('probe.targets and /probe share probe.concurrency', () => {
  it('a round that finds every slot taken skips its targets, says so once, and keeps their last results', async (t) => {
    current = sound;
    const hang = await hangingServer();
    t.after(() => hang.close());
    const clock = new FakeClock(Date.now());
    const targets = [`leaf.test:${server.port}`, `127.0.0.1:${server.port}`];
    const config = configWith({
      ca: 'root.pem',
      concurrency: 1,
      // Longer than the test: the /probe request holds its slot until the hanging server closes.
      timeoutMs: 30_000,
      allow: { hosts: ['leaf.test'], cidrs: ['127.0.0.1/32'], ports: [server.port, hang.port] },
      targets: [...targets, { target: `leaf.test:${server.port}`, servername: 'leaf.test' }],
    });
    const log = captureLogger();
    const { service } = assembleDaemon(config, log.logger, { clock, probeLookup: async () => ['127.0.0.1'] });
    t.after(() => service.stop());
    await service.start();
    const base = `http://127.0.0.1:${service.address()!.port}`;
    await clock.advance(0);
    await service.probes.settled();
    const held = request(`${base}/probe?target=leaf.test:${hang.port}`).then((r) => r.body.text());
    await waitFor('the /probe request holding the only slot', () => hang.connections() === 1);
    current = expired;
    await clock.advance(60_000);
    await service.probes.settled();
    const skips = log.lines.filter((l) => /probe targets skipped this round/.test(l.message));
    assert.equal(skips.length, 1, 'one line for the round');
    assert.equal(skips[0]!.fields.count, 3);
    const m = parseSamples(await (await request(`${base}/metrics`)).body.text());
    assert.equal(sample(m, 'probe_success', { target: targets[0]!, servername: '' }), 1, 'the last result stays');
    await hang.close();
    assert.match(await held, /probe_success 0/);
  });
});

describe('a SIGHUP that changes probe', () => {
  it('turns /probe off and on, and drops the results of targets no longer configured', async (t) => {
    current = sound;
    const clock = new FakeClock(Date.now());
    const allow = { hosts: ['leaf.test'], cidrs: ['127.0.0.1/32'], ports: [server.port] };
    const first = configWith({ ca: 'root.pem', allow, targets: [`leaf.test:${server.port}`, `127.0.0.1:${server.port}`] });
    const { service } = assembleDaemon(first, captureLogger().logger, { clock, probeLookup: async () => ['127.0.0.1'] });
    t.after(() => service.stop());
    await service.start();
    const base = `http://127.0.0.1:${service.address()!.port}`;
    const status = async (): Promise<number> => (await request(`${base}/probe?target=leaf.test:${server.port}`)).statusCode;
    const targets = async (): Promise<string[]> =>
      parseSamples(await (await request(`${base}/metrics`)).body.text())
        .filter((s) => s.name === 'probe_success')
        .map((s) => s.labels.target!);
    await clock.advance(0);
    await service.probes.settled();
    assert.equal(await status(), 200);
    assert.deepEqual((await targets()).sort(), [`127.0.0.1:${server.port}`, `leaf.test:${server.port}`]);

    await service.reconfigure(configWith({ ca: 'root.pem', targets: [`leaf.test:${server.port}`] }));
    assert.equal(await status(), 404, 'probe.allow removed: /probe is off');
    assert.deepEqual(await targets(), [`leaf.test:${server.port}`]);
    await service.reconfigure(configWith({ ca: 'root.pem', allow }));
    assert.equal(await status(), 200);
    assert.deepEqual(await targets(), [], 'no targets: no results');
  });
});

describe('the probe section of the configuration', () => {
  it('names every problem by its key', () => {
    const problems = (probe: unknown): string => {
      try {
        configWith(probe as Record<string, unknown>);
      } catch (err) {
        return (err as Error).message;
      }
      assert.fail('accepted');
    };
    assert.match(problems({ allow: { hosts: ['a.test'] } }), /probe\.allow\.cidrs.*is required/);
    assert.match(problems({ allow: { cidrs: ['127.1/32'] } }), /probe\.allow\.cidrs\[0\].*not a canonical IP address/);
    assert.match(problems({ allow: { cidrs: ['10.0.0.0/8'], ports: [0] } }), /probe\.allow\.ports\[0\]/);
    assert.match(problems({ allow: { cidrs: ['10.0.0.0/8'], hosts: ['0x7f.1'] } }), /probe\.allow\.hosts\[0\]/);
    assert.match(problems({ allow: { cidrs: ['10.0.0.0/8'], ranges: [] } }), /probe\.allow\.ranges.*not a known key/);
    assert.match(problems({ timeoutMs: 60_000 }), /probe\.timeoutMs.*from 100 to 30000/);
    assert.match(problems({ concurrency: 1000 }), /probe\.concurrency/);
    assert.match(problems({ intervalMs: 1 }), /probe\.intervalMs/);
    assert.match(problems({ targets: Array.from({ length: 101 }, (_, i) => `h${i}.test:443`) }), /probe\.targets.*at most 100/);
    assert.match(problems({ targets: ['a.test:99999'] }), /probe\.targets\[0\]/);
    assert.match(problems({ targets: [{ target: 'a.test:443', servername: '127.1' }] }), /probe\.targets\[0\].*servername/);
    assert.match(problems({ ca: 'missing.pem' }), /probe\.ca.*ENOENT/);
    assert.match(problems({ ca: 'state-does-not-matter', url: 'x' }), /probe\.url.*not a known key/);
    assert.match(problems('yes'), /"probe".*mapping/);
  });

  it('--check-config warns when probe is configured without the listener that serves it', async () => {
    const settings = { certificates: [join(dir, 'certs', '*.pem')], stateFile: join(dir, 'state.json'), probe: { targets: ['leaf.test:443'] } };
    const without = await checkConfigFiles(buildConfig(settings, dir));
    assert.ok(
      without.warnings.some((w) => /probe is configured but listen is not/.test(w)),
      without.warnings.join('\n'),
    );
    const withListen = await checkConfigFiles(buildConfig({ ...settings, listen: '127.0.0.1:0' }, dir));
    assert.ok(!withListen.warnings.some((w) => /probe is configured/.test(w)), withListen.warnings.join('\n'));
  });

  it('`stapler check --format` takes text, json or prometheus, and names the flag otherwise', async () => {
    const io = { out: () => undefined, log: () => undefined, now: Date.now };
    await assert.rejects(
      checkCommand(`127.0.0.1:${server.port}`, { format: 'openmetrics' }, io),
      /--format.*"openmetrics" is not one of text, json, prometheus/,
    );
  });
});
