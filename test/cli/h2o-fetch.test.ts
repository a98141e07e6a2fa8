// `stapler h2o-fetch`, h2o's ocsp-update-cmd: it prints the daemon's staple file only when the
// verifier accepts it and it outlasts what h2o may hold it for; everything else is exit 75
// (never another code: h2o then staples its old response forever). test/servers/h2o.test.ts runs
// it under the real h2o.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EX_TEMPFAIL, h2oFetchCommand, holdMs, type H2oFetchOptions } from '../../src/cli/commands/h2o-fetch.ts';
import { fullchain, makePki, type TestPki } from '../support/pki.ts';
import { buildResponse, type ResponseSpec } from '../support/responses.ts';

const NOW = Date.parse('2026-12-05T00:00:00Z');
const MINUTE = 60_000;
let pki: TestPki;
let dir: string;
let certFile: string;

before(async () => {
  pki = await makePki({ ocspUrl: 'http://127.0.0.1:1/ocsp' });
  dir = await mkdtemp(join(tmpdir(), 'stapler-h2o-fetch-'));
  certFile = join(dir, 'site.pem');
  await writeFile(certFile, fullchain(pki.leaf, pki.intermediate));
});
after(() => rm(dir, { recursive: true, force: true }));

/** Run the command with `staple` in the staple file (null: no file); its exit code, output and log. */
async function run(staple: Buffer | null, opts: H2oFetchOptions = {}, cert = certFile): Promise<{ code: number; out: Buffer[]; log: string[] }> {
  await rm(`${certFile}.ocsp`, { force: true });
  if (staple) await writeFile(`${certFile}.ocsp`, staple);
  const out: Buffer[] = [];
  const log: string[] = [];
  const code = await h2oFetchCommand(cert, opts, { writeStaple: (d) => out.push(d), log: (s) => log.push(s), now: () => NOW });
  return { code, out, log };
}

const response = (over: Partial<ResponseSpec> = {}): Buffer =>
  buildResponse({ cert: pki.leaf, issuer: pki.intermediate, thisUpdate: new Date(NOW - MINUTE), nextUpdate: new Date(NOW + 7 * 24 * 60 * MINUTE), ...over });

describe('stapler h2o-fetch', () => {
  it('prints the staple file, byte for byte, when it is acceptable and lasts', async () => {
    const der = response();
    const r = await run(der);
    assert.equal(r.code, 0, r.log.join('\n'));
    assert.deepEqual(Buffer.concat(r.out), der);
  });

  it('exits 75 with nothing printed when the daemon has no staple', async () => {
    const r = await run(null);
    assert.equal(r.code, EX_TEMPFAIL);
    assert.deepEqual(r.out, []);
    assert.match(r.log.join('\n'), /no staple file .*site\.pem\.ocsp/);
  });

  for (const [name, spec, reason] of [
    ['another serial', { serialHex: '0badc0de' }, /cert-id-mismatch/],
    ['a bad signature', { corruptSignature: true }, /bad-signature/],
    ['status unknown', { status: 'unknown' }, /status-unknown/],
    ['an expired response', { thisUpdate: new Date(NOW - 10 * MINUTE), nextUpdate: new Date(NOW - MINUTE) }, /expired/],
    ['a signer that is not the issuer', 'delegatedNoEku', /unauthorized-signer|signer-not-found/],
  ] as const) {
    it(`never prints a staple file holding ${name}`, async () => {
      const r = await run(response(spec === 'delegatedNoEku' ? { signer: pki.delegatedNoEku } : spec));
      assert.equal(r.code, EX_TEMPFAIL);
      assert.deepEqual(r.out, [], 'nothing for h2o to staple');
      assert.match(r.log.join('\n'), reason);
    });
  }

  it('refuses a staple that expires before h2o would replace or drop it', async () => {
    const opts = { interval: '100', maxFailures: '1', margin: '60' };
    const hold = holdMs(100, 1, 60);
    assert.equal(hold, 260_000, '(1 + 1) x 100 s + 60 s');
    const short = await run(response({ nextUpdate: new Date(NOW + hold - 1000) }), opts);
    assert.equal(short.code, EX_TEMPFAIL);
    assert.deepEqual(short.out, []);
    assert.match(short.log.join('\n'), /before h2o would replace it/);
    const enough = await run(response({ nextUpdate: new Date(NOW + hold) }), opts);
    assert.equal(enough.code, 0, enough.log.join('\n'));
  });

  it("uses h2o's defaults (4 h, 3 failures): a staple with 16 h left is refused", async () => {
    const r = await run(response({ nextUpdate: new Date(NOW + 16 * 60 * MINUTE) }));
    assert.equal(r.code, EX_TEMPFAIL);
    assert.equal((await run(response({ nextUpdate: new Date(NOW + 17 * 60 * MINUTE) }))).code, 0);
  });

  it('reads the staple where --staple-file says', async () => {
    const der = response();
    await writeFile(join(dir, 'site.der'), der);
    const r = await run(null, { stapleFile: '{dir}/{name}.der' });
    assert.equal(r.code, 0, r.log.join('\n'));
    assert.deepEqual(Buffer.concat(r.out), der);
  });

  // Any exit but 0 and 75 stops h2o's updates for the certificate while it goes on stapling.
  for (const [name, opts, cert, reason] of [
    ['a bad --interval', { interval: 'soon' }, undefined, /--interval: "soon" must be a number of seconds/],
    ['a fractional --max-failures', { maxFailures: '1.5' }, undefined, /--max-failures: "1.5" must be a whole number/],
    ['a template without a placeholder', { stapleFile: '/tmp/staple.der' }, undefined, /--staple-file: expected a template/],
    ['a missing certificate', {}, '/nonexistent/site.pem', /\/nonexistent\/site\.pem: does not exist/],
  ] as const) {
    it(`exits 75, not 2, for ${name}`, async () => {
      const r = await run(response(), opts, cert);
      assert.equal(r.code, EX_TEMPFAIL);
      assert.deepEqual(r.out, []);
      assert.match(r.log.join('\n'), reason);
    });
  }
});
