// Two cluster workers share one store directory: between them, one responder request.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { verifyResponse } from '../../src/ocsp/verify.ts';
import { caRig } from '../support/ca-rig.ts';
import { fullchain, type TestPki } from '../support/pki.ts';
import type { TestResponder } from '../support/responder.ts';
import { handshake } from '../support/tls.ts';

const APP = new URL('../support/cluster-app.ts', import.meta.url).pathname;

let pki: TestPki;
let responder: TestResponder;
let dir: string;
let primary: ChildProcess | null = null;

before(async () => {
  ({ pki, responder } = await caRig());
  dir = await mkdtemp(join(tmpdir(), 'stapler-cluster-'));
});
after(async () => {
  if (primary && primary.exitCode === null) {
    const exited = new Promise((resolve) => primary!.once('exit', resolve));
    primary.kill('SIGTERM');
    await exited;
  }
  await responder.close();
  await rm(dir, { recursive: true, force: true });
});

describe('a cluster sharing the directory store', () => {
  it('two workers make one responder request, and both staple it', async () => {
    const chainFile = join(dir, 'fullchain.pem');
    const keyFile = join(dir, 'key.pem');
    await writeFile(chainFile, fullchain(pki.leaf, pki.intermediate));
    await writeFile(keyFile, pki.leaf.keyPem);
    primary = spawn(process.execPath, ['--import', 'tsx', APP, join(dir, 'store'), chainFile, keyFile], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`workers not ready within 20 s: ${out}`)), 20_000);
      primary!.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) {
          clearTimeout(timer);
          resolve(out.split('\n')[0]!);
        }
      });
      primary!.once('exit', (code) => reject(new Error(`primary exited with ${code}`)));
    });
    const { port, workers } = JSON.parse(line) as { port: number; workers: { pid: number; state: string; source: string }[] };
    assert.equal(workers.length, 2);
    assert.ok(
      workers.every((w) => w.state === 'stapled'),
      JSON.stringify(workers),
    );
    assert.deepEqual(workers.map((w) => w.source).sort(), ['fetch', 'store'], 'one fetched, the other took it from the store');
    assert.equal(responder.requestCount, 1, 'one responder request between the two workers');
    // Handshakes spread over both workers all carry the staple.
    for (let i = 0; i < 6; i++) {
      const h = await handshake(port);
      assert.ok(h.staple && verifyResponse(h.staple, { certificate: pki.leaf.cert, issuer: pki.intermediate.cert, now: Date.now() }).ok);
    }
    assert.equal(responder.requestCount, 1);
  });
});
