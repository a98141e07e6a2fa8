// 10,000 distinct CertIDs the daemon does not manage (issue 16 item 8), sent to the responder over
// HTTP: every one is answered "unauthorized", the request memo and the list of unmanaged CertIDs
// stay within their bounds, and the log stays readable (a few lines, not one per CertID).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Pool } from 'undici';
import { HttpListener } from '../../src/daemon/http/listener.ts';
import { OcspRoute, UNAUTHORIZED } from '../../src/daemon/http/ocsp-route.ts';
import { MAX_LOGGED_UNKNOWN, MAX_TRACKED_UNKNOWN } from '../../src/daemon/http/ocsp-unknown.ts';
import { REQUEST_MEMO_LIMITS } from '../../src/daemon/http/request-memo.ts';
import { Stapler } from '../../src/node/stapler.ts';
import { buildRequest, certIdFor } from '../../src/ocsp/request.ts';
import { captureLogger } from '../support/log-capture.ts';
import { fullchain, makePki } from '../support/pki.ts';

describe('a flood of distinct unmanaged CertIDs', () => {
  it('10,000 of them: all answered "unauthorized", memo and list bounded, a few log lines', async (t) => {
    const pki = await makePki({ ocspUrl: 'http://127.0.0.1:9/' });
    const { logger, lines } = captureLogger();
    // A daemon that manages one certificate (its staple is never fetched: the CA is not there).
    const stapler = new Stapler({ store: 'memory', logger });
    t.after(() => stapler.close());
    await stapler.add(fullchain(pki.leaf, pki.intermediate));
    const route = new OcspRoute({ lookup: (id) => stapler.lookupCertId(id), log: logger });
    const listener = new HttpListener([route], logger);
    const { port } = await listener.listen({ host: '127.0.0.1', port: 0 });
    t.after(() => listener.close());
    const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 8 });
    t.after(() => pool.close());
    const base = certIdFor(pki.leaf.cert, pki.intermediate.cert);
    const before = lines.length;
    let unauthorized = 0;
    for (let batch = 0; batch < 100; batch++) {
      await Promise.all(
        Array.from({ length: 100 }, async (_, i) => {
          const n = batch * 100 + i + 1;
          const serial = new Uint8Array([0x01, n >> 8, n & 0xff]);
          const path = `/${encodeURIComponent(buildRequest({ ...base, serial }).toString('base64'))}`;
          const res = await pool.request({ method: 'GET', path });
          if (Buffer.from(await res.body.arrayBuffer()).equals(UNAUTHORIZED)) unauthorized++;
        }),
      );
    }
    assert.equal(unauthorized, 10_000);
    assert.ok(route.parsed.size <= REQUEST_MEMO_LIMITS.entries, `memo: ${route.parsed.size}`);
    assert.equal(route.unknown.list().length, MAX_TRACKED_UNKNOWN);
    assert.equal(route.unknown.untracked, 10_000 - MAX_TRACKED_UNKNOWN);
    const logged = lines.slice(before).filter((l) => /unmanaged|does not manage/.test(l.message));
    assert.ok(logged.length <= MAX_LOGGED_UNKNOWN + 2, `${logged.length} log lines about unmanaged CertIDs`);
  });
});
