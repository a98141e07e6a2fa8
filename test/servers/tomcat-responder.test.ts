// Debian's Tomcat 10 (JSSE) stapling through the daemon's responder, configured as
// docs/servers/tomcat.md says (test/support/tomcat.ts). The JVM starts once (it is slow to start);
// each case then runs its own daemon on the port Tomcat's responderURI names, and waits out the
// JDK's 1 s cache (jdk.tls.stapling.cacheLifetime) so that Tomcat asks that daemon.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { peerSkip } from '../support/peers.ts';
import { fullchain } from '../support/pki.ts';
import { jssePeerCases } from '../support/jsse-cases.ts';
import { freePort, PeerRig } from '../support/peer-rig.ts';
import { startTomcat } from '../support/tomcat.ts';

const skip = peerSkip('tomcat', 'openssl');
if (skip) console.log(`# skipping Tomcat: ${skip}`);

const rig = new PeerRig();
before(() => rig.open());
after(() => rig.closeAll());

describe('Tomcat 10 (Debian) through the daemon', { skip }, () => {
  let port = 0;
  let daemonPort = 0;
  before(async () => {
    daemonPort = await freePort();
    port = await freePort();
    const base = await mkdtemp(join(tmpdir(), 'stapler-tomcat-'));
    rig.cleanups.push(() => rm(base, { recursive: true, force: true })); // also when the start fails
    // The server's files, made as the page names them (site-fullchain.pem, site.key).
    await writeFile(join(base, 'site-fullchain.pem'), fullchain(rig.pki.leaf, rig.pki.intermediate));
    await writeFile(join(base, 'site.key'), rig.pki.leaf.keyPem);
    const tomcat = await startTomcat({ base, siteDir: base, port, responderUrl: `http://127.0.0.1:${daemonPort}/`, cacheLifetimeSeconds: 1 });
    rig.cleanups.push(() => tomcat.stop()); // close() runs the last first: Tomcat stops, then its base goes
  });
  after(() => rig.close());

  jssePeerCases('Tomcat', rig, () => ({ port, daemonPort }));
});
