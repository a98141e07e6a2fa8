// The library's quick start (README.md and docs/library.md, tagged library-quick-start), run the
// way a user runs it: as its own Node process, with the responder healthy, down, answering
// garbage, hanging, and busy with another process's fetch.
// Only a separate process shows whether Node exits on an unsettled top-level await (exit 13):
// inside the test runner something else always keeps the event loop alive.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fullchain, makePki, type Issued, type TestPki } from '../support/pki.ts';
import { TestResponder } from '../support/responder.ts';
import { handshake } from '../support/tls.ts';
import { examples, where } from '../support/doc-examples.ts';
import { waitFor } from '../support/wait.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const DOC_TIMEOUT = 'await stapler.ready({ timeout: 10_000 });';
const DOC_LISTEN = 'server.listen(443);';

let dir = '';
let example = '';
let refusedUrl = '';
const responder = new TestResponder();

/** The docs' example, with only its paths, its port and its timeout changed for the test. */
async function docsExample(): Promise<string> {
  const blocks = examples('library-quick-start');
  assert.ok(blocks.length >= 2, 'the README and docs/library.md both have the quick start');
  for (const b of blocks) assert.equal(b.code, blocks[0]!.code, `${where(b)} is the same example as ${where(blocks[0]!)}`);
  const code = blocks[0]!.code;
  for (const needle of ["from 'stapler'", "'/etc/tls/fullchain.pem'", "'/etc/tls/privkey.pem'", DOC_TIMEOUT, DOC_LISTEN]) {
    assert.ok(code.includes(needle), `the example has ${needle}`);
  }
  return code
    .replace("from 'stapler'", `from ${JSON.stringify(join(ROOT, 'src/index.ts'))}`)
    .replace("'/etc/tls/fullchain.pem'", 'process.env.CERT_FILE')
    .replace("'/etc/tls/privkey.pem'", 'process.env.KEY_FILE')
    .replace(DOC_TIMEOUT, 'await stapler.ready({ timeout: 2_000 });')
    .replace(DOC_LISTEN, "server.listen(0, '127.0.0.1', () => console.log(`LISTENING ${(server.address() as { port: number }).port}`));");
}

interface Run {
  readonly child: ChildProcess;
  /** The port once it listens, or null if it exited first. */
  readonly listening: Promise<number | null>;
  readonly exited: Promise<{ code: number | null; stderr: string }>;
}

function runExample(leaf: Issued, storeDir: string): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', join(dir, 'example.mts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      CERT_FILE: join(dir, `${fileName(leaf)}.pem`),
      KEY_FILE: join(dir, `${fileName(leaf)}.key`),
      STAPLER_STORE_DIR: storeDir,
      STAPLER_LOG_LEVEL: 'error',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
  const listening = new Promise<number | null>((resolve) => {
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = /LISTENING (\d+)/.exec(stdout);
      if (m) resolve(Number(m[1]));
    });
    void exited.then(() => resolve(null));
  });
  return { child, listening, exited };
}

/** Both PKIs name their leaves alike: the serial tells them apart. */
function fileName(leaf: Issued): string {
  return `${leaf.name}-${leaf.cert.serialHex}`;
}

async function stop(run: Run): Promise<void> {
  run.child.kill('SIGTERM');
  await run.exited;
}

let pki: TestPki;
let downPki: TestPki;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stapler-docs-process-'));
  example = await docsExample();
  await writeFile(join(dir, 'example.mts'), example);
  pki = await makePki({ ocspUrl: await responder.listen() });
  responder.serve(pki);
  // A port with nothing listening: connection refused.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  refusedUrl = `http://127.0.0.1:${(probe.address() as { port: number }).port}/ocsp`;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  downPki = await makePki({ ocspUrl: refusedUrl });
  for (const p of [pki, downPki]) {
    for (const leaf of [p.leaf, p.mustStapleLeaf]) {
      await writeFile(join(dir, `${fileName(leaf)}.pem`), fullchain(leaf, p.intermediate));
      await writeFile(join(dir, `${fileName(leaf)}.key`), leaf.keyPem);
    }
  }
});

after(async () => {
  await responder.close();
  await rm(dir, { recursive: true, force: true });
});

async function freshStore(): Promise<string> {
  return mkdtemp(join(dir, 'store-'));
}

describe('the library quick start as its own process', () => {
  it('healthy responder: listens, and the first handshake is stapled', async () => {
    responder.behaviour = 'good';
    const run = runExample(pki.leaf, await freshStore());
    try {
      const port = await run.listening;
      assert.ok(port, `it listens (stderr: ${(await Promise.race([run.exited, Promise.resolve(null)]))?.stderr ?? ''})`);
      assert.ok((await handshake(port)).staple, 'stapled');
    } finally {
      await stop(run);
    }
  });

  const unstapled: [string, () => TestPki, 'good' | 'malformed-bytes' | 'hang'][] = [
    ['responder down (connection refused)', () => downPki, 'good'],
    ['responder answering garbage', () => pki, 'malformed-bytes'],
    ['responder hanging', () => pki, 'hang'],
  ];
  for (const [when, which, behaviour] of unstapled) {
    it(`${when}: ready() settles at its timeout and the server listens, unstapled (never exit 13)`, async () => {
      responder.behaviour = behaviour;
      const run = runExample(which().leaf, await freshStore());
      try {
        const port = await run.listening;
        const early = port === null ? await run.exited : null;
        assert.ok(port, `it listens instead of exiting with ${String(early?.code)}: ${early?.stderr ?? ''}`);
        assert.equal((await handshake(port)).staple, null);
      } finally {
        await stop(run);
        responder.behaviour = 'good';
      }
    });
  }

  it('Must-Staple with the responder down: ready() rejects as documented, the process exits 1 naming the certificate, and never listens', async () => {
    const run = runExample(downPki.mustStapleLeaf, await freshStore());
    const port = await run.listening;
    const { code, stderr } = await run.exited;
    assert.equal(port, null);
    assert.equal(code, 1, `exit code 1 from the rejected top-level await, not 13 (stderr: ${stderr})`);
    assert.match(stderr, /MustStapleError: Must-Staple certificate could not be stapled within 2000 ms/);
    assert.match(stderr, new RegExp(downPki.mustStapleLeaf.cert.serialHex));
  });

  it("two processes on one store: the one without the lease waits for the other's staple, and listens stapled", async () => {
    responder.behaviour = 'good';
    responder.delayMs = 1_000;
    const requestsBefore = responder.requestCount;
    const store = await freshStore();
    const first = runExample(pki.leaf, store);
    // The second starts while the first holds the lease and waits for the slow responder: once
    // the first has asked the CA.
    await waitFor('the first process to ask the CA', () => responder.requestCount > requestsBefore, 30_000);
    const second = runExample(pki.leaf, store);
    try {
      const [p1, p2] = await Promise.all([first.listening, second.listening]);
      assert.ok(p1 && p2, 'both listen');
      assert.ok((await handshake(p2)).staple, 'the second staples what the first fetched');
      assert.equal(responder.requestCount - requestsBefore, 1, 'one responder request between them');
    } finally {
      responder.delayMs = 0;
      await Promise.all([stop(first), stop(second)]);
    }
  });
});
