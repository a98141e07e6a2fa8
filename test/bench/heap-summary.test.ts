// bench/support/heap-summary.ts: a heap snapshot summed by kind finds the objects a process holds.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { writeHeapSnapshot } from 'node:v8';
import { heapGrowthTable, heapTable, readHeapSnapshot, summariseHeap } from '../../bench/support/heap-summary.ts';

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

it('says what each certificate adds between two summaries, largest growth first', () => {
  const base = { count: 1_000, total: 10_000, kinds: [{ kind: 'A (object)', count: 1_000, bytes: 8_000 }] };
  const at = {
    count: 3_000,
    total: 30_000,
    kinds: [
      { kind: 'A (object)', count: 3_000, bytes: 24_000 },
      { kind: '(string)', count: 4_000, bytes: 4_000 },
    ],
  };
  const rows = heapGrowthTable(at, base).split('\n');
  assert.deepEqual(rows.slice(2), ['| A (object) | 1.0 | 8 |', '| (string) | 2.0 | 2 |', '| all | | 10 |']);
});
