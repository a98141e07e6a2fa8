// bench/support/heap-summary.ts: a heap snapshot summed by kind finds the objects a process holds.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { writeHeapSnapshot } from 'node:v8';
import { heapTable, readHeapSnapshot, summariseHeap } from '../../bench/support/heap-summary.ts';

class HeldForTheSnapshot {
  constructor(readonly n: number) {}
}

it('sums a heap snapshot by kind: 5,000 objects of one class are counted, by their constructor', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'stapler-heap-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const held = Array.from({ length: 5_000 }, (_, i) => new HeldForTheSnapshot(i));
  const summary = summariseHeap(await readHeapSnapshot(writeHeapSnapshot(join(dir, 'test.heapsnapshot'))));
  const kind = summary.kinds.find((k) => k.kind === 'HeldForTheSnapshot (object)');
  assert.ok(kind, 'the class is a kind of its own');
  assert.equal(kind.count, held.length);
  assert.ok(kind.bytes >= held.length * 12, `${kind.bytes} bytes for ${held.length} objects`);
  assert.ok(summary.total > kind.bytes);
  assert.match(heapTable(summary, 1_000, 1000), /\| HeldForTheSnapshot \(object\) \| 5,000 \| [\d,]+ \| \d+ B \|/);
});
