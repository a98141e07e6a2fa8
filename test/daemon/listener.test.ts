// The daemon's HTTP listener: addresses, routing, bounds, and errors that never crash it.

import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, describe, it } from 'node:test';
import { request } from 'undici';
import { parseConfig } from '../../src/daemon/config.ts';
import { HttpListener, plain, requestPath } from '../../src/daemon/http/listener.ts';
import { isLoopback, parseListenAddress } from '../../src/daemon/http/listen-address.ts';
import type { HttpRoute } from '../../src/daemon/http/route.ts';
import { InputError } from '../../src/ocsp/errors.ts';
import { captureLogger } from '../support/log-capture.ts';

describe('listen addresses', () => {
  it('reads PORT as loopback, HOST:PORT and [IPv6]:PORT', () => {
    assert.deepEqual(parseListenAddress('8080'), { host: '127.0.0.1', port: 8080 });
    assert.deepEqual(parseListenAddress('0.0.0.0:80'), { host: '0.0.0.0', port: 80 });
    assert.deepEqual(parseListenAddress('[::1]:0'), { host: '::1', port: 0 });
    assert.deepEqual(parseListenAddress('localhost:9000'), { host: 'localhost', port: 9000 });
  });
  it('says why a text is not an address', () => {
    assert.match(parseListenAddress('::1:80') as string, /brackets/);
    assert.match(parseListenAddress(':80') as string, /host is empty/);
    assert.match(parseListenAddress('127.0.0.1:65536') as string, /not a port/);
    assert.match(parseListenAddress('127.0.0.1:http') as string, /not a port/);
    assert.match(parseListenAddress('[10.0.0.1]:80') as string, /not an IPv6/);
    assert.match(parseListenAddress('ho st:80') as string, /not an IP address or host name/);
    assert.match(parseListenAddress('http://127.0.0.1:8080/') as string, /not a URL/);
  });
  it('knows loopback from the rest', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) assert.equal(isLoopback(h), true, h);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', 'example.org']) assert.equal(isLoopback(h), false, h);
  });
  it('is the config key "listen", refused with the key and the reason', () => {
    const c = parseConfig('certificates: /a.pem\nlisten: 8443\n', 'stapler.yaml', '/etc/stapler');
    assert.deepEqual(c.listen, { host: '127.0.0.1', port: 8443 });
    assert.equal(parseConfig('certificates: /a.pem\n', 'stapler.yaml', '/etc/stapler').listen, null);
    assert.throws(
      () => parseConfig('certificates: /a.pem\nlisten: "1.2.3.4:99999"\n', 'stapler.yaml', '/etc'),
      (err: unknown) => err instanceof InputError && /listen/.test(err.message) && /not a port/.test(err.message),
    );
  });
});

describe('request paths', () => {
  it('takes origin-form and absolute-form targets, without the query', () => {
    assert.equal(requestPath('/metrics?x=1'), '/metrics');
    assert.equal(requestPath('http://127.0.0.1:8080/ocsp/MEIw'), '/ocsp/MEIw');
    assert.equal(requestPath('http://ocsp.example'), '/');
    assert.equal(requestPath('//MEIw'), '//MEIw');
  });
});

describe('the listener', () => {
  const { logger, lines } = captureLogger();
  const seen: string[] = [];
  const routes: HttpRoute[] = [
    { name: 'hello', paths: ['/hello'], methods: ['GET'], handle: (_q, res) => plain(res, 200, 'hello\n') },
    { name: 'boom', paths: ['/boom'], methods: ['GET'], handle: () => Promise.reject(new Error('kaput')) },
    {
      name: 'rest',
      paths: null,
      methods: ['GET', 'POST'],
      handle: (_q, res, path) => {
        seen.push(path);
        plain(res, 200, `rest ${path}\n`);
      },
    },
  ];
  const listener = new HttpListener(routes, logger);
  after(() => listener.close());
  const base = async (): Promise<string> => {
    const a = listener.address() ?? (await listener.listen({ host: '127.0.0.1', port: 0 }));
    return `http://127.0.0.1:${a.port}`;
  };

  it('routes exact paths first, then the route that takes every path', async () => {
    const url = await base();
    assert.equal(await (await request(`${url}/hello`)).body.text(), 'hello\n');
    assert.equal(await (await request(`${url}/hello/x`)).body.text(), 'rest /hello/x\n');
    assert.equal(
      lines.some((l) => l.message === 'listening' && l.level === 'info'),
      true,
    );
  });
  it('answers 405 with Allow for another method', async () => {
    const r = await request(`${await base()}/hello`, { method: 'DELETE' });
    assert.equal(r.statusCode, 405);
    assert.equal(r.headers.allow, 'GET');
    await r.body.dump();
  });
  it('turns a failing route into a 500 and a log line, and goes on', async () => {
    const url = await base();
    const r = await request(`${url}/boom`);
    assert.equal(r.statusCode, 500);
    await r.body.dump();
    assert.ok(lines.some((l) => l.message === 'HTTP request failed' && l.fields.err === 'kaput'));
    assert.equal((await request(`${url}/hello`)).statusCode, 200);
  });
  it('answers 431 to headers over the limit and 400 to garbage, and goes on', async () => {
    const { port } = listener.address() ?? (await listener.listen({ host: '127.0.0.1', port: 0 }));
    const raw = (text: string): Promise<string> =>
      new Promise((resolve) => {
        const s = connect(port, '127.0.0.1', () => s.end(text));
        let out = '';
        s.on('data', (d: Buffer) => (out += d.toString()));
        s.on('close', () => resolve(out));
        s.on('error', () => resolve(out));
      });
    assert.match(await raw(`GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(10_000)}\r\n\r\n`), /^HTTP\/1.1 431/);
    assert.match(await raw('NOT HTTP AT ALL\r\n\r\n'), /^HTTP\/1.1 400/);
    assert.equal((await request(`${await base()}/hello`)).statusCode, 200);
  });
  it('gives the absolute-form path to the routes (a proxy-style request line)', async () => {
    const { port } = listener.address()!;
    const answer = await new Promise<string>((resolve) => {
      const s = connect(port, '127.0.0.1', () => s.end(`GET http://ocsp.example.org/ocsp/abc HTTP/1.0\r\nConnection: close\r\n\r\n`));
      let out = '';
      s.on('data', (d: Buffer) => (out += d.toString()));
      s.on('close', () => resolve(out));
    });
    assert.match(answer, /rest \/ocsp\/abc/);
  });
  it('refuses two routes on one path, and an address in use, with the reason', async () => {
    assert.throws(() => new HttpListener([routes[0]!, routes[0]!], logger), /two routes own \/hello/);
    const { port } = listener.address()!;
    const other = new HttpListener(routes, logger);
    await assert.rejects(other.listen({ host: '127.0.0.1', port }), /cannot listen on 127\.0\.0\.1:\d+: the address is in use/);
  });
  it('answers 503 "starting" with Retry-After to everything until it is opened', async () => {
    const closed = new HttpListener(routes, logger, false);
    const { port } = await closed.listen({ host: '127.0.0.1', port: 0 });
    const r = await request(`http://127.0.0.1:${port}/hello`);
    assert.equal(r.statusCode, 503);
    assert.equal(r.headers['retry-after'], '1');
    assert.match(await r.body.text(), /starting/);
    closed.open();
    assert.equal(await (await request(`http://127.0.0.1:${port}/hello`)).body.text(), 'hello\n');
    await closed.close();
  });
  it('warns when it listens where other hosts can reach it', async () => {
    const { logger: l2, lines: lines2 } = captureLogger();
    const open = new HttpListener(routes, l2);
    await open.listen({ host: '0.0.0.0', port: 0 });
    await open.close();
    assert.ok(lines2.some((l) => l.level === 'warn' && /other hosts can reach/.test(l.message)));
  });
});
