// A Node TLS server on 127.0.0.1 that staples whatever `staple()` returns now (or nothing), and
// a TCP server that accepts and never answers (a hanging "TLS" server). Each is closed by its caller.

import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { createServer, type TLSSocket } from 'node:tls';
import { fullchain, type Issued } from './pki.ts';

export interface TestServer {
  readonly port: number;
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

export async function stapleServer(leaf: Issued, chain: Issued[], staple: () => Buffer | null, onSecure?: (s: TLSSocket) => void): Promise<TestServer> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server = createServer({ cert: fullchain(leaf, ...chain), key: leaf.keyPem }, (s) => (onSecure ? onSecure(s) : s.end()));
  server.on('connection', (s: Socket) => {
    connections++;
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.on('OCSPRequest', (_cert: Buffer, _issuer: Buffer, cb: (err: null, resp?: Buffer) => void) => {
    const bytes = staple();
    if (bytes) cb(null, bytes);
    else cb(null);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Accepts connections and never sends a byte: a probe must give up at its deadline. */
export async function hangingServer(): Promise<TestServer> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server = createNetServer((s) => {
    connections++;
    sockets.add(s);
    s.on('error', () => undefined);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
