// The GET path search (issue 16 item 7): its work is bounded by counting, not by timing. The
// decoding the search does (percent-decoding and base64) is counted with spies on the globals it
// calls, for the hostile paths the adversarial run built, within the listener's header limit.

import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { LISTENER_LIMITS } from '../../src/daemon/http/listener.ts';
import { GET_PATH_LIMITS, requestFromPath } from '../../src/daemon/http/ocsp-get.ts';
import { buildRequest, certIdFor } from '../../src/ocsp/request.ts';
import { makePki, type TestPki } from '../support/pki.ts';

let pki: TestPki;
const valid = async (): Promise<string> => {
  pki ??= await makePki({ ocspUrl: 'http://127.0.0.1:9/' });
  return buildRequest(certIdFor(pki.leaf.cert, pki.intermediate.cert)).toString('base64');
};

/** Characters handed to decodeURIComponent and to base64 decoding, and base64 decodings of more than a header. */
let decoded = 0;
let fullDecodes = 0;
const realDecode = globalThis.decodeURIComponent;
const realFrom = Buffer.from.bind(Buffer) as (...args: unknown[]) => Buffer;
beforeEach(() => {
  decoded = 0;
  fullDecodes = 0;
  globalThis.decodeURIComponent = (s: string) => ((decoded += s.length), realDecode(s));
  (Buffer as unknown as { from: (...args: unknown[]) => Buffer }).from = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[1] === 'base64') {
      decoded += args[0].length;
      if (args[0].length > 8) fullDecodes++;
    }
    return realFrom(...args);
  };
});
afterEach(() => {
  globalThis.decodeURIComponent = realDecode;
  (Buffer as unknown as { from: unknown }).from = realFrom;
});

/** The longest path the listener lets through: the request line within the header limit. */
const within = (unit: string, prefix = ''): string => prefix + unit.repeat(Math.floor((LISTENER_LIMITS.maxHeaderBytes - 100 - prefix.length) / unit.length));

describe('the GET path search', () => {
  it('decodes at most its budget for `/%41` x 2,000 (it decoded every suffix in full: quadratic)', () => {
    const path = within('/%41');
    assert.ok(path.length > 7_000);
    const out = requestFromPath(path);
    assert.equal(out.ok, false);
    assert.ok(decoded <= GET_PATH_LIMITS.decodedChars, `decoded ${decoded} characters`);
  });

  it('counts every candidate it looks at, base64 or not: `/M` and `/%4D` x 4,000 stop at the cap', () => {
    for (const unit of ['/M', '/%4D', '/MA==', '/x']) {
      decoded = 0;
      const out = requestFromPath(within(unit));
      assert.equal(out.ok, false, unit);
      assert.ok(decoded <= GET_PATH_LIMITS.decodedChars, `${unit}: decoded ${decoded} characters`);
      if (!out.ok) assert.match(out.reason, /only the first 32 '\/' are looked at/, unit);
    }
  });

  it('decodes nothing of a candidate whose first characters are no SEQUENCE header of a length its suffix can hold', () => {
    for (const path of [
      within('/%4D'), // "M/M/M/...": the header is 0x33, not a SEQUENCE
      within('/M'),
      within('/MA=='),
      `/M${'%41'.repeat(2_400)}${'/M'.repeat(30)}`, // "MAAA...": declares 2 bytes, its suffix holds 7,200 characters
      `/MIIK${'A'.repeat(4_000)}`, // declares 2,564 bytes: 3,420 characters at least
      within('/M%GG'),
    ]) {
      decoded = 0;
      assert.equal(requestFromPath(path).ok, false);
      assert.equal(decoded, 0, `${path.slice(0, 12)}: decoded ${decoded} characters`);
    }
  });

  it('still finds the request after a 4 KiB prefix read in full, after a doubled "/", and in raw base64 with "/"', async () => {
    const b64 = await valid();
    const long = `/M${'a'.repeat(LISTENER_LIMITS.maxHeaderBytes / 2 - 300)}/${encodeURIComponent(b64)}`;
    for (const path of [
      `/${encodeURIComponent(b64)}`,
      `/ocsp//${b64}`,
      `/a/b/c/${encodeURIComponent(b64).replaceAll('%2B', '%20')}`,
      `/${encodeURIComponent(b64).replaceAll('%3D', '%3d').replaceAll('%2F', '%2f')}`,
      `/${b64.replaceAll('=', '%3D')}`,
      // Every character escaped (a client may), upper- and lower-case hex.
      `/${[...b64].map((c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).join('')}`,
      `/ocsp/${[...b64].map((c, k) => (k % 2 ? c : `%${c.charCodeAt(0).toString(16)}`)).join('')}`,
      long,
    ]) {
      const out = requestFromPath(path);
      assert.ok(out.ok, `${path.slice(0, 40)}: ${out.ok ? '' : out.reason}`);
    }
  });

  it("parses at most 2 candidates: 32 suffixes whose DER header each declares the suffix's own length", () => {
    // Built from the end: each segment's first 6 bytes are SEQUENCE, two length octets (the
    // length of the whole suffix it starts), and filler; a parse of each fails.
    let path = '';
    for (let k = 0; k < 32; k++) {
      const chars = 8 + (path === '' ? 0 : path.length);
      const declared = Math.floor((chars * 3) / 4) - 4;
      const head = realFrom(Buffer.from([0x30, 0x82, declared >> 8, declared & 0xff, 0x41, 0x41])).toString('base64');
      path = `/${head}${path}`;
    }
    fullDecodes = 0;
    const out = requestFromPath(path);
    assert.equal(out.ok, false);
    assert.ok(fullDecodes <= GET_PATH_LIMITS.parsed, `${fullDecodes} candidates decoded and parsed`);
  });

  it('refuses a list of CertIDs at its second: the responder answers one (a list of 16 SHA-512 CertIDs was read in full)', async () => {
    await valid();
    const id = certIdFor(pki.leaf.cert, pki.intermediate.cert, 'sha512');
    const out = requestFromPath(`/${encodeURIComponent(buildRequest(Array.from({ length: 16 }, () => id)).toString('base64'))}`);
    assert.equal(out.ok, false);
    if (!out.ok) assert.match(out.reason, /more than one CertID/);
  });

  it('gives up after 32 candidates: a prefix with more "/" than that is not a responder URL', async () => {
    const b64 = await valid();
    assert.ok(requestFromPath(`${'/a'.repeat(31)}/${b64}`).ok);
    assert.equal(requestFromPath(`${'/a'.repeat(32)}/${b64}`).ok, false);
  });
});
