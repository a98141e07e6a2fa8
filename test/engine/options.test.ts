import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../../src/ocsp/errors.ts';
import { Stapler } from '../../src/node/stapler.ts';
import { silentLogger } from '../../src/engine/logger.ts';
import type { StaplerOptions } from '../../src/node/options.ts';
import { fullchain, makePki } from '../support/pki.ts';
import { TestResponder } from '../support/responder.ts';

function rejects(options: StaplerOptions, item: string, reason: RegExp): void {
  assert.throws(
    () => new Stapler({ store: 'memory', logger: silentLogger, ...options }),
    (err: unknown) => err instanceof InputError && err.item === item && reason.test(err.reason),
    `${item} should be refused`,
  );
}

describe('Stapler options are checked up front', () => {
  it('names the option, the value and what is expected', () => {
    rejects({ timeoutMs: -1 }, 'timeoutMs', /-1 is not valid: expected a number from 1 to/);
    rejects({ deadlineMs: Number.NaN }, 'deadlineMs', /NaN/);
    rejects({ concurrency: 0 }, 'concurrency', /whole number from 1 to 1024/);
    rejects({ concurrency: 2.5 }, 'concurrency', /whole number/);
    rejects({ skewMs: -5 }, 'skewMs', /-5 is not valid: expected a number from 0 to 86400000/);
    rejects({ maxResponseBytes: 1e9 }, 'maxResponseBytes', /from 1024 to 1048576/);
    rejects({ hash: 'md5' as 'sha1' }, 'hash', /sha1, sha256/);
    rejects({ responderUrls: ['ftp://ocsp.example/'] }, 'responderUrls', /http:\/\/ or https:\/\//);
    rejects({ responderUrlsByIssuer: { 'CN=Some CA': ['not a url'] } }, 'responderUrlsByIssuer["CN=Some CA"]', /not a valid URL/);
    rejects({ proxy: 'socks5://127.0.0.1:1080' }, 'proxy', /http/);
    rejects({ proxy: 'https://proxy.example:3128' }, 'proxy', /plain-HTTP proxy URL .*https: proxies are not supported/);
    rejects({ refresh: { refreshFraction: 1.5 } }, 'refresh.refreshFraction', /1.5 is not valid: expected a number greater than 0 and less than 1/);
    rejects({ refresh: { backoffInitialMs: 60_000, backoffMaxMs: 1_000 } }, 'refresh.backoffMaxMs', /less than/);
  });
  it('accepts good values, and uses them', async (t) => {
    const pki = await makePki({ ocspUrl: 'http://127.0.0.1:9/ocsp' });
    const responder = new TestResponder();
    const url = await responder.listen();
    responder.serve(pki);
    t.after(() => responder.close());
    const s = new Stapler({
      store: 'memory',
      logger: silentLogger,
      timeoutMs: 10_000,
      concurrency: 4,
      responderUrls: [url],
      refresh: { refreshFraction: 0.3 },
    });
    t.after(() => s.close());
    await s.add(fullchain(pki.leaf, pki.intermediate));
    await s.ready();
    // responderUrls replaced the certificate's own URL (which points at a closed port).
    assert.equal(responder.requestCount, 1);
    const { state, thisUpdate, validUntil, nextRefreshAt } = s.status()[0]!;
    assert.equal(state, 'stapled');
    // refreshFraction 0.3: the refresh is 30 % into the window, less up to 5 % of jitter (0.5 by default).
    const window = validUntil! - thisUpdate!;
    assert.ok(nextRefreshAt! <= thisUpdate! + 0.3 * window, `refresh at ${(nextRefreshAt! - thisUpdate!) / window} of the window`);
    assert.ok(nextRefreshAt! >= thisUpdate! + 0.25 * window, `refresh at ${(nextRefreshAt! - thisUpdate!) / window} of the window`);
  });
});
