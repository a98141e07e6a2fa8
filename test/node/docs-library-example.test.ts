// The library quick start (README.md, docs/library.md), step for step, in the test process
// through the package's entry point. docs-library-process.test.ts runs the example's own text.

import assert from 'node:assert/strict';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Stapler } from '../../src/index.ts';
import * as ocsp from '../../src/ocsp/index.ts';
import { silentLogger } from '../../src/engine/logger.ts';
import { fullchain, makePki } from '../support/pki.ts';
import { TestResponder } from '../support/responder.ts';
import { handshake } from '../support/tls.ts';

const responder = new TestResponder();
let storeDir = '';
after(async () => {
  await responder.close();
  if (storeDir) await rm(storeDir, { recursive: true, force: true });
});

describe('the library quick start', () => {
  it('staples the first handshake of an https server, with the default store', async () => {
    const pki = await makePki({ ocspUrl: await responder.listen() });
    responder.serve(pki);
    storeDir = await mkdtemp(join(tmpdir(), 'stapler-docs-quick-start-'));
    process.env.STAPLER_STORE_DIR = storeDir;
    const cert = fullchain(pki.leaf, pki.intermediate);
    const key = pki.leaf.keyPem;

    const stapler = new Stapler({ logger: silentLogger });
    await stapler.add(cert);
    const server = createServer({ cert, key }, (_req, res) => res.end('hello'));
    stapler.attach(server);
    await stapler.ready({ timeout: 10_000 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const h = await handshake((server.address() as AddressInfo).port);
      assert.ok(h.staple);
      assert.ok(ocsp.verifyResponse(h.staple, { certificate: pki.leaf.cert, issuer: pki.intermediate.cert, now: Date.now() }).ok);
      assert.equal(stapler.storeDescription, `directory ${storeDir}`);
    } finally {
      delete process.env.STAPLER_STORE_DIR;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await stapler.close();
    }
  });
});
