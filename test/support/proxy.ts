// A minimal forward proxy for plain HTTP (absolute-form requests), on 127.0.0.1. It refuses
// CONNECT, as many real proxies do for port 80, and counts what it forwarded.

import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export class TestProxy {
  readonly forwarded: string[] = [];
  private readonly server: Server;
  url = '';

  constructor() {
    this.server = createServer((req, res) => {
      const target = req.url ?? '';
      if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(target)) {
        res.writeHead(400).end('absolute-form loopback URLs only');
        return;
      }
      this.forwarded.push(target);
      const upstream = request(target, { method: req.method, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', () => res.writeHead(502).end());
      req.pipe(upstream);
    });
    this.server.on('connect', (_req, socket) => socket.end('HTTP/1.1 405 Method Not Allowed\r\n\r\n'));
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
