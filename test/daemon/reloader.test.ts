// The reload command runs after the daemon has looked at its certificate files (`beforeRun`), so
// that a certificate renewed since the last rescan has had its old staple withdrawn first.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Reloader } from '../../src/daemon/reloader.ts';
import { silentLogger } from '../../src/engine/logger.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { waitFor } from '../support/wait.ts';

describe('the reload command', () => {
  it('runs only once the look at the certificate files has finished, and once per due reload', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'stapler-reloader-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const clock = new FakeClock(Date.now());
    const looked = join(dir, 'looked');
    const log = join(dir, 'runs');
    let looks = 0;
    const reloader = new Reloader(
      // What the command saw: whether the look had written its mark by then.
      { command: `if [ -e ${looked} ]; then echo after >> ${log}; else echo before >> ${log}; fi`, debounceMs: 50 },
      silentLogger,
      clock,
      async () => {
        looks++;
        await new Promise((r) => setTimeout(r, 20)); // a look that takes a while (real files)
        await writeFile(looked, '');
      },
    );
    reloader.schedule();
    let done = false;
    void reloader.settled().then(() => (done = true));
    await waitFor('the reload', async () => done || (await clock.advance(50), false));
    assert.equal(looks, 1);
    assert.deepEqual((await readFile(log, 'utf8')).trim().split('\n'), ['after']);
    assert.ok(existsSync(looked));
  });

  it('is settled only once a run already under way has run its command', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'stapler-reloader-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const clock = new FakeClock(Date.now());
    const log = join(dir, 'runs');
    let lookStarted = false;
    let finishLook!: () => void;
    const reloader = new Reloader({ command: `echo ran >> ${log}`, debounceMs: 50 }, silentLogger, clock, () => {
      lookStarted = true;
      return new Promise<void>((r) => (finishLook = r));
    });
    reloader.schedule();
    await clock.advance(50);
    await waitFor('the run to start its look', () => lookStarted);
    let done = false;
    void reloader.settled().then(() => (done = true));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(done, false, 'settled while the run is still looking');
    finishLook();
    await waitFor('the run', () => done);
    assert.equal((await readFile(log, 'utf8')).trim(), 'ran');
  });
});
