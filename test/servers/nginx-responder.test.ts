// nginx in responder mode: `ssl_stapling_responder` pointed at the daemon's OCSP responder (its
// nginx page, docs/servers/nginx.md, still recommends staple files for nginx; this is for those who want nginx to fetch).
// nginx fetches lazily, per worker: the first handshake after start triggers the fetch and goes
// unstapled; the next ones are stapled.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Behaviour } from '../support/responder.ts';
import { nginxResponderDirectives, noNginx, startNginx } from '../support/nginx.ts';
import { freePort, PeerRig, QUICK_FAILURES, stapledSerial, waitStapled, SECOND, waitUntilUnstapledAtExpiry } from '../support/peer-rig.ts';
import { opensslStatus } from '../support/tls.ts';

if (noNginx) console.log(`# skipping nginx: ${noNginx}`);

const rig = new PeerRig();
before(() => rig.open());
after(() => rig.closeAll());

async function nginx(dir: string, certFile: string, responderUrl: string): Promise<number> {
  const trusted = join(dir, 'trusted.pem');
  await writeFile(trusted, rig.pki.intermediate.pem + rig.pki.root.pem);
  const port = await freePort();
  const server = await startNginx({ dir, port, certFile, stapling: nginxResponderDirectives(responderUrl, trusted) });
  rig.cleanups.push(() => server.stop());
  return port;
}

describe('nginx with ssl_stapling_responder pointed at the daemon', { skip: noNginx }, () => {
  after(() => rig.close());

  it('staples after its first fetch, keeps stapling through an outage, and stops at nextUpdate', async () => {
    const { dir, certFile } = await rig.site('nginx-responder');
    rig.responder.validityMs = 60 * SECOND + 15 * SECOND; // nextUpdate in 15 s
    const { daemon, url } = await rig.readyDaemon(dir, { skewMs: 0 });
    const port = await nginx(dir, certFile, url);
    const first = await waitStapled(port, 'nginx to staple');
    assert.equal(first.certStatus, 'good', first.output);
    assert.equal(stapledSerial(first), rig.pki.leaf.cert.serialHex);
    for (const b of ['reset', 'tryLater', 'http-500'] as const satisfies readonly Behaviour[]) {
      rig.responder.behaviour = b;
      await daemon.refreshAll();
      const s = await opensslStatus(port);
      assert.equal(s.certStatus, 'good', `${b}: ${s.output}`);
    }
    await waitUntilUnstapledAtExpiry(port, 'nginx');
  });

  it('never staples what a CA answers wrong-serial, badly signed, expired or unknown', async () => {
    const { dir, certFile } = await rig.site('nginx-bad');
    rig.responder.behaviour = 'wrong-serial';
    const { daemon, url } = await rig.readyDaemon(dir, QUICK_FAILURES);
    for (const b of ['wrong-serial', 'bad-signature', 'expired', 'unknown'] as const satisfies readonly Behaviour[]) {
      rig.responder.behaviour = b;
      const asked = rig.responder.requestCount;
      await daemon.refreshAll();
      assert.ok(rig.responder.requestCount > asked, `the daemon asked the CA (${b})`);
      // A fresh nginx each time: after a failed fetch nginx waits 300 s before it asks again.
      const port = await nginx(dir, certFile, url);
      for (let i = 0; i < 3; i++) {
        const s = await opensslStatus(port);
        assert.equal(s.stapled, false, `${b}: ${s.output}`);
      }
    }
    // The control: once the CA answers well, a fresh nginx staples.
    rig.responder.behaviour = 'good';
    await daemon.refreshAll();
    const port = await nginx(dir, certFile, url);
    assert.equal((await waitStapled(port, 'nginx to staple')).certStatus, 'good');
  });
});
