// The real clock's timer queue: every background timer of the process in one heap behind one
// Node timer. This tests the scheduler itself, so it runs on real time, with short delays.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { systemClock } from '../../src/engine/clock.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

describe('the system clock', () => {
  it('runs each timer once, in time order and never early, and never a cancelled one', async () => {
    const start = Date.now();
    const ran: { at: number; when: number; i: number }[] = [];
    const cancelled = new Set<number>();
    const handles = [];
    for (let i = 0; i < 400; i++) {
      const at = start + 5 + ((i * 37) % 60);
      handles.push(systemClock.at(at, () => ran.push({ at, when: Date.now(), i })));
    }
    // Cancel enough to make the queue compact itself, and a few twice.
    for (let i = 0; i < 400; i += 3) {
      handles[i]!.cancel();
      handles[i]!.cancel();
      cancelled.add(i);
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(ran.length, 400 - cancelled.size);
    assert.ok(
      ran.every((r) => !cancelled.has(r.i)),
      'no cancelled timer ran',
    );
    assert.ok(
      ran.every((r) => r.when >= r.at),
      'no timer ran early',
    );
    for (let k = 1; k < ran.length; k++) assert.ok(ran[k - 1]!.at <= ran[k]!.at, 'in time order');
  });

  it('a timer added for sooner than the one armed runs first', async () => {
    const order: string[] = [];
    systemClock.at(Date.now() + 60, () => order.push('late'));
    systemClock.at(Date.now() + 10, () => order.push('early'));
    await new Promise((resolve) => setTimeout(resolve, 120));
    assert.deepEqual(order, ['early', 'late']);
  });

  it('background timers never keep a process alive; a keep-alive timer does, until it runs', () => {
    const script = (keepAlive: boolean): string =>
      `import { systemClock } from ${JSON.stringify(`${ROOT}src/engine/clock.ts`)};
       systemClock.at(Date.now() + ${keepAlive ? 300 : 60_000}, () => console.log('ran'), ${keepAlive});`;
    const run = (keepAlive: boolean): { out: string; ms: number } => {
      const t = Date.now();
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script(keepAlive)], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 30_000,
      });
      return { out: r.stdout.trim(), ms: Date.now() - t };
    };
    const background = run(false);
    assert.equal(background.out, '', 'the process exited without waiting a minute for it');
    assert.ok(background.ms < 30_000);
    assert.equal(run(true).out, 'ran');
  });
});
