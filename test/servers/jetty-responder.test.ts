// Debian's Jetty 9 (JSSE) stapling through the daemon's responder, configured as
// docs/servers/jetty.md says (test/support/jetty.ts). The JVM starts once (it is slow to start);
// each case then runs its own daemon on the port Jetty's responderURI names, and waits out the
// JDK's 1 s cache (jdk.tls.stapling.cacheLifetime) so that Jetty asks that daemon.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { peerSkip } from '../support/peers.ts';
import { fullchain } from '../support/pki.ts';
import { jssePeerCases } from '../support/jsse-cases.ts';
import { freePort, PeerRig } from '../support/peer-rig.ts';
import { startJetty } from '../support/jetty.ts';

const skip = peerSkip('jetty', 'openssl');
if (skip) console.log(`# skipping Jetty: ${skip}`);

const rig = new PeerRig();
before(() => rig.open());
after(() => rig.closeAll());

describe('Jetty 9 (Debian) through the daemon', { skip }, () => {
  let port = 0;
  let daemonPort = 0;
  before(async () => {
    daemonPort = await freePort();
    port = await freePort();
    const base = await mkdtemp(join(tmpdir(), 'stapler-jetty-'));
    rig.cleanups.push(() => rm(base, { recursive: true, force: true })); // also when the start fails
    // The server's files, made as the page names them (site-fullchain.pem, site.key).
    await writeFile(join(base, 'site-fullchain.pem'), fullchain(rig.pki.leaf, rig.pki.intermediate));
    await writeFile(join(base, 'site.key'), rig.pki.leaf.keyPem);
    const jetty = await startJetty({ base, port, responderUrl: `http://127.0.0.1:${daemonPort}/`, cacheLifetimeSeconds: 1 });
    rig.cleanups.push(() => jetty.stop()); // close() runs the last first: Jetty stops, then its base goes
  });
  after(() => rig.close());

  jssePeerCases('Jetty', rig, () => ({ port, daemonPort }));
});
