// docs/servers/java.md's steps to build the example server and its keystore, run as written
// (tagged java-build) in a scratch directory, from the checkout: javac compiles the server, and
// openssl makes a PKCS12 keystore that holds the key and the whole chain under the alias the
// server is run with. (The server then staples through the daemon: java-responder.test.ts.)

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { example } from '../support/doc-examples.ts';
import { noJava } from '../support/java-server.ts';
import { makePki } from '../support/pki.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const noKeytool = spawnSync('keytool', ['-help']).error ? 'keytool is not installed (it comes with the JDK)' : false;

describe("docs/servers/java.md's build steps", { skip: noJava || noKeytool }, () => {
  it('compile StaplingServer and make a keystore with the key and the chain', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'stapler-docs-java-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const pki = await makePki({ ocspUrl: 'http://127.0.0.1:9/ocsp' });
    await writeFile(join(dir, 'site.pem'), pki.leaf.pem);
    await writeFile(join(dir, 'site.key'), pki.leaf.keyPem);
    await writeFile(join(dir, 'chain.pem'), pki.intermediate.pem + pki.root.pem);

    const script = example('java-build', 'docs/servers/java.md').code.replaceAll('test/support/java/', join(ROOT, 'test/support/java/'));
    const r = spawnSync('bash', ['-euo', 'pipefail', '-c', script], { cwd: dir, encoding: 'utf8' });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    assert.ok(existsSync(join(dir, 'java-server', 'StaplingServer.class')));

    // The alias and password the run command passes (`StaplingServer 8443 server.p12 changeit`).
    const run = example('peers-java', 'docs/servers/java.md').code;
    const [, keystore, password] = /StaplingServer \d+ (\S+) (\S+)$/m.exec(run)!;
    const list = spawnSync('keytool', ['-list', '-v', '-keystore', join(dir, keystore!), '-storepass', password!, '-storetype', 'PKCS12'], {
      encoding: 'utf8',
    });
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, /Alias name: server/);
    assert.match(list.stdout, /Entry type: PrivateKeyEntry/);
    assert.match(list.stdout, /Certificate chain length: 3/);
  });
});
