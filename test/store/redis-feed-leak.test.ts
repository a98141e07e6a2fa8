// A change-feed connection must not outlive a failed subscribe: a fake Redis (a TCP server that
// speaks just enough RESP) drops the connection at SUBSCRIBE. The store's process must exit by
// itself once the connection is closed: a feed connection left reconnecting (node-redis retries
// a dropped connection for ever) would keep a server's process, and a test's, alive. Found as a
// test file that passed and never exited (daemon-redis-faults.test.ts, 4 hangs in 20 runs).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { it, type TestContext } from 'node:test';

const SUBSCRIBER = new URL('./support/feed-subscriber.ts', import.meta.url).pathname;
/** Far above the child's own bounds (a 500 ms connect and command timeout): reaching it means it never exits. */
const EXIT_BOUND_MS = 20_000;

async function fakeRedis(t: TestContext): Promise<{ port: number; connections: () => number }> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      const text = chunk.toString('latin1');
      if (/SUBSCRIBE/i.test(text)) return socket.destroy();
      // Every other command (the connect's HELLO and CLIENT SETINFO) answered OK: one reply per '*'.
      socket.write('+OK\r\n'.repeat(text.split('*').length - 1));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return { port: address.port, connections: () => connections };
}

it('a change-feed subscribe that fails (the connection dropped at SUBSCRIBE) leaves nothing behind: the process exits once closed', async (t) => {
  const redis = await fakeRedis(t);
  const child = spawn(process.execPath, ['--import', 'tsx', SUBSCRIBER, String(redis.port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const bound = setTimeout(() => child.kill('SIGKILL'), EXIT_BOUND_MS);
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  clearTimeout(bound);
  assert.match(out, /^refused: /, 'the subscribe failed, as the fake Redis makes it');
  assert.ok(redis.connections() >= 1, 'the child reached the fake Redis');
  assert.equal(signal, null, `the process did not exit by itself within ${EXIT_BOUND_MS} ms (a feed connection outlived the store)`);
  assert.equal(code, 0);
});
