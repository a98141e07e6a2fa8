// Slowloris against the listener (issue 16 item 6): 600 connections that never finish their
// headers, each reopened as soon as it is dropped, held all 512 slots, and legitimate requests
// were refused (0-1 % answered). At the cap the listener now evicts the oldest connection that has
// not sent a complete request, so every legitimate request (a new connection each, as Apache's
// OCSP fetch makes) is answered. All from 127.0.0.1: no per-IP limit could tell them apart.

import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { HttpListener, LISTENER_LIMITS, plain } from '../../src/daemon/http/listener.ts';
import { captureLogger } from '../support/log-capture.ts';
import { waitFor } from '../support/wait.ts';
import { freshGet } from '../support/fresh-get.ts';

/** `count` connections that send part of a request's headers and never the rest, reopened when dropped. */
function slowloris(port: number, count: number): { opened: () => number; stop: () => void } {
  let stopped = false;
  let opened = 0;
  const sockets = new Set<Socket>();
  const open = (): void => {
    if (stopped) return;
    const s = connect(port, '127.0.0.1', () => s.write('GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: '));
    opened++;
    sockets.add(s);
    s.on('error', () => undefined);
    s.once('close', () => {
      sockets.delete(s);
      setImmediate(open);
    });
  };
  for (let i = 0; i < count; i++) open();
  return {
    opened: () => opened,
    stop: () => {
      stopped = true;
      for (const s of sockets) s.destroy();
    },
  };
}

const fresh = (port: number): Promise<number | string> => freshGet(port, '/ocsp');

describe('the listener under slowloris', () => {
  it('answers every legitimate request while 600 connections that never finish their headers are held and reopened', async (t) => {
    const { logger, lines } = captureLogger();
    const listener = new HttpListener([{ name: 'ocsp', paths: null, methods: ['GET'], handle: (_q, res) => plain(res, 200, 'ok\n') }], logger);
    const { port } = await listener.listen({ host: '127.0.0.1', port: 0 });
    t.after(() => listener.close());
    const attack = slowloris(port, 600);
    t.after(() => attack.stop());
    // Every slot taken, and the attack past the cap: connections dropped and reopened.
    await waitFor('attacking connections dropped and reopened', () => attack.opened() >= 700, 30_000);
    const answers: (number | string)[] = [];
    for (let i = 0; i < 50; i++) answers.push(await fresh(port));
    assert.deepEqual(
      answers.filter((a) => a !== 200),
      [],
      `answered ${answers.filter((a) => a === 200).length} of 50`,
    );
    assert.ok(listener.evicted > 0);
    assert.equal(lines.filter((l) => /connection cap/.test(l.message)).length, 1, 'the cap is logged once, not per connection');
    assert.ok(LISTENER_LIMITS.maxConnections < 600);
  });
});
