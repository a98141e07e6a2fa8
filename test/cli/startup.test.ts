// CLI start-up: each command loads only what it uses. `stapler check` and `stapler verify` load
// neither the daemon, nor pino, undici, redis or prom-client, nor commander (main.ts parses their
// plain lines itself); `verify` loads no TLS or network module either (bench/cli.ts measures the time).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolvedModules } from '../support/module-graph.ts';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const COMMANDER = /node_modules\/commander\//;
const NETWORK = /^node:(tls|https|http|net|http2)$/;
const HEAVY = /\/(daemon|store|metrics|engine\/engine\.ts)\/|node_modules\/(pino|undici|redis|@redis|prom-client)\//;

/** The modules the CLI resolves while running `argv`, and its exit code. */
function loadedBy(argv: string[]): { code: number | null; heavy: string[]; resolved: string[] } {
  const { status, stderr, resolved } = resolvedModules([MAIN, ...argv]);
  assert.ok(
    resolved.some((u) => u.endsWith('/src/cli/main.ts')),
    `the hook saw the CLI load: ${stderr}`,
  );
  return { code: status, heavy: [...new Set(resolved.filter((u) => HEAVY.test(u)))], resolved };
}

describe('CLI start-up', () => {
  it('`stapler check` loads no daemon, engine, store, metrics, pino, undici or commander', () => {
    const { code, heavy, resolved } = loadedBy(['check', '127.0.0.1:1', '--timeout', '1']);
    assert.equal(code, 2, 'a refused connection is exit 2');
    assert.deepEqual(heavy, []);
    assert.deepEqual(
      resolved.filter((u) => COMMANDER.test(u)),
      [],
    );
  });
  it('`stapler verify` loads none of them, nor TLS, HTTPS or the network', () => {
    const { code, heavy, resolved } = loadedBy(['verify', '/nonexistent/response.der', '--cert', '/nonexistent/cert.pem']);
    assert.equal(code, 2, 'a missing file is exit 2');
    assert.deepEqual(heavy, []);
    assert.deepEqual(
      resolved.filter((u) => COMMANDER.test(u) || NETWORK.test(u)),
      [],
    );
  });
  it('help and usage errors still go to commander', () => {
    for (const argv of [
      ['verify', '--help'],
      ['verify', 'response.der'],
    ]) {
      const { resolved } = loadedBy(argv);
      assert.ok(
        resolved.some((u) => COMMANDER.test(u)),
        argv.join(' '),
      );
    }
  });
  it('`stapler h2o-fetch` loads none of them, and of the daemon only its path templates', () => {
    const { code, heavy } = loadedBy(['h2o-fetch', '/nonexistent/cert.pem']);
    assert.equal(code, 75, 'a missing file is exit 75 for h2o');
    assert.deepEqual(
      heavy.filter((u) => !u.endsWith('/src/daemon/template.ts')),
      [],
    );
  });
});
