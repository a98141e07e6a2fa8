// The listener's connection cap under a low `ulimit -n` (issue 15's soak). The cap (512) made room
// for a new connection by evicting the oldest idle one, but under `ulimit -n 384` the process ran
// out of descriptors first: accept() failed with EMFILE and libuv accepted and closed every new
// connection, so Apache's fetch read "connection reset" for as long as 434 idle connections were
// held, and its handshakes went unstapled. The cap now stays below the open-file limit.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { connectionCap, openFileLimit } from '../../src/daemon/http/fd-limit.ts';
import { LISTENER_LIMITS } from '../../src/daemon/http/listener.ts';
import { freshGet } from '../support/fresh-get.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const CHILD = join(ROOT, 'test/daemon/fixtures/listener-fd-child.ts');
const FD_LIMIT = 128;

const fresh = (port: number): Promise<number | string> => freshGet(port, '/');

describe('the listener under a low open-file limit', () => {
  it(`answers every new request while more idle connections than ulimit -n ${FD_LIMIT} allows are held`, async (t) => {
    const child = spawn('/bin/sh', ['-c', `ulimit -n ${FD_LIMIT} && exec '${process.execPath}' --import tsx '${CHILD}'`], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const exited = new Promise((r) => child.once('exit', r));
    t.after(async () => {
      child.stdin.end();
      await exited;
    });
    const started = await new Promise<{ port: number; maxConnections: number }>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!) as { port: number; maxConnections: number });
      });
      child.once('exit', (code) => reject(new Error(`the listener exited with ${code}`)));
    });
    assert.ok(started.maxConnections < FD_LIMIT, `cap ${started.maxConnections} under ulimit -n ${FD_LIMIT}`);

    // The soak's fd pressure: idle connections (nothing sent), more than the limit, held.
    const flood: Socket[] = [];
    t.after(() => flood.forEach((s) => s.destroy()));
    await Promise.all(
      Array.from({ length: FD_LIMIT + 72 }, () => {
        const s = connect(started.port, '127.0.0.1');
        s.on('error', () => undefined);
        flood.push(s);
        return new Promise((r) => (s.once('connect', r), s.once('close', r)));
      }),
    );
    const answers: (number | string)[] = [];
    for (let i = 0; i < 20; i++) answers.push(await fresh(started.port));
    assert.deepEqual(
      answers.filter((a) => a !== 200),
      [],
      `answered ${answers.filter((a) => a === 200).length} of 20`,
    );
  });

  it('reads the soft limit and keeps a reserve of descriptors below it', () => {
    const limits = (soft: string): string =>
      `Limit                     Soft Limit           Hard Limit           Units\nMax open files            ${soft}                4096                 files\n`;
    assert.equal(
      openFileLimit(() => limits('384')),
      384,
    );
    assert.equal(
      openFileLimit(() => limits('unlimited')),
      null,
    );
    assert.equal(
      openFileLimit(() => {
        throw new Error('ENOENT');
      }),
      null,
    );
    assert.equal(connectionCap(LISTENER_LIMITS.maxConnections, null), 512);
    assert.equal(connectionCap(512, 1024), 512);
    assert.equal(connectionCap(512, 384), 320);
    assert.equal(connectionCap(512, 128), 64);
    assert.equal(connectionCap(512, 1), 1);
  });
});
