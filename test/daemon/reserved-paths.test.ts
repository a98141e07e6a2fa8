// The listener's non-OCSP paths: what a browser (on /status) or a crawler asks for on its own
// gets a 404, and no OCSP counter sees it; a real OCSP request after them is still counted.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { assembleDaemon } from '../../src/daemon/assemble.ts';
import { buildConfig } from '../../src/daemon/config.ts';
import { RESERVED_PATHS } from '../../src/daemon/http/routes.ts';
import { captureLogger } from '../support/log-capture.ts';
import { caRig } from '../support/ca-rig.ts';
import { fullchain, type TestPki } from '../support/pki.ts';
import { parseSamples } from '../support/prom-text.ts';
import type { TestResponder } from '../support/responder.ts';

let pki: TestPki;
let responder: TestResponder;
before(async () => ({ pki, responder } = await caRig()));
after(() => responder.close());

/** Every stapler_ocsp_responder_requests_total sample, summed. */
async function ocspRequestsCounted(url: string): Promise<number> {
  const text = await (await request(`${url}/metrics`)).body.text();
  return parseSamples(text)
    .filter((s) => s.name === 'stapler_ocsp_responder_requests_total')
    .reduce((sum, s) => sum + s.value, 0);
}

describe("the listener's reserved paths", () => {
  it('answers /favicon.ico and /robots.txt with a 404 that no OCSP counter sees', async (t) => {
    assert.deepEqual([...RESERVED_PATHS].sort(), ['/favicon.ico', '/robots.txt']);
    const dir = await mkdtemp(join(tmpdir(), 'stapler-reserved-'));
    await mkdir(join(dir, 'certs'));
    await writeFile(join(dir, 'certs', 'site.pem'), fullchain(pki.leaf, pki.intermediate));
    const config = buildConfig(
      {
        certificates: [join(dir, 'certs', '*.pem')],
        stateFile: join(dir, 'state.json'),
        storeDir: join(dir, 'store'),
        timeoutMs: 1_000,
        deadlineMs: 1_000,
        listen: '127.0.0.1:0',
      },
      dir,
    );
    const { service } = assembleDaemon(config, captureLogger().logger);
    // The daemon stops before its folder goes (after-hooks run in the order they were added).
    t.after(async () => {
      await service.stop();
      await rm(dir, { recursive: true, force: true });
    });
    await service.start();
    const url = `http://127.0.0.1:${service.address()!.port}`;

    const before = await ocspRequestsCounted(url);
    for (const path of RESERVED_PATHS) {
      for (const method of ['GET', 'HEAD'] as const) {
        const res = await request(`${url}${path}`, { method });
        await res.body.text();
        assert.equal(res.statusCode, 404, `${method} ${path}`);
      }
    }
    assert.equal(await ocspRequestsCounted(url), before, 'no OCSP request was counted');
    // A path that is not reserved is still the responder's (a malformed request, counted).
    const other = await request(`${url}/favicon.png`);
    await other.body.text();
    assert.equal(await ocspRequestsCounted(url), before + 1);
  });
});
