// What a V8 heap snapshot holds, by kind: each node's own size summed by its type and name (the
// constructor for objects; "(string)", "(code)" and so on for the rest), largest first. Only self
// sizes, so the total is the heap the snapshot saw, counted once.
//   node --import tsx bench/support/heap-summary.ts FILE [COUNT]          the kinds (per certificate)
//   node --import tsx bench/support/heap-summary.ts FILE COUNT BASE BASE_COUNT   what each certificate adds

import { readFile } from 'node:fs/promises';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export interface HeapKind {
  readonly kind: string;
  readonly count: number;
  readonly bytes: number;
}

/** The snapshot's nodes summed by kind, largest first, and the total. */
export function summariseHeap(snapshot: Snapshot): { kinds: HeapKind[]; total: number } {
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [number, number, number];
  const sums = new Map<string, { count: number; bytes: number }>();
  let total = 0;
  const { nodes, strings } = snapshot;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + typeAt]!]!;
    // Objects by constructor; strings, code, arrays and the rest by their type alone.
    const kind = type === 'object' || type === 'native' || type === 'closure' ? `${strings[nodes[i + nameAt]!]} (${type})` : `(${type})`;
    const size = nodes[i + sizeAt]!;
    const s = sums.get(kind) ?? { count: 0, bytes: 0 };
    s.count++;
    s.bytes += size;
    sums.set(kind, s);
    total += size;
  }
  const kinds = [...sums].map(([kind, s]) => ({ kind, ...s })).sort((a, b) => b.bytes - a.bytes);
  return { kinds, total };
}

export async function readHeapSnapshot(path: string): Promise<Snapshot> {
  return JSON.parse(await readFile(path, 'utf8')) as Snapshot;
}

/** The largest kinds as a Markdown table, per certificate when `count` is given. */
export function heapTable(summary: { kinds: HeapKind[]; total: number }, count: number, rows = 15): string {
  const per = (b: number): string => `${(b / count).toFixed(0)} B`;
  const lines = ['| kind | objects | bytes | per certificate |', '|---|---:|---:|---:|'];
  for (const k of summary.kinds.slice(0, rows))
    lines.push(`| ${k.kind} | ${k.count.toLocaleString('en-US')} | ${k.bytes.toLocaleString('en-US')} | ${per(k.bytes)} |`);
  lines.push(`| all | | ${summary.total.toLocaleString('en-US')} | ${per(summary.total)} |`);
  return lines.join('\n');
}

/** What each certificate adds: the kinds' growth from a snapshot at `base.count` certificates to one at `count`, per certificate, largest first. */
export function heapGrowthTable(
  at: { kinds: HeapKind[]; total: number; count: number },
  base: { kinds: HeapKind[]; total: number; count: number },
  rows = 15,
): string {
  const before = new Map(base.kinds.map((k) => [k.kind, k]));
  const certs = at.count - base.count;
  const growth = at.kinds
    .map((k) => ({ kind: k.kind, count: k.count - (before.get(k.kind)?.count ?? 0), bytes: k.bytes - (before.get(k.kind)?.bytes ?? 0) }))
    .sort((a, b) => b.bytes - a.bytes);
  const lines = ['| kind | objects per certificate | bytes per certificate |', '|---|---:|---:|'];
  for (const k of growth.slice(0, rows)) lines.push(`| ${k.kind} | ${(k.count / certs).toFixed(1)} | ${(k.bytes / certs).toFixed(0)} |`);
  lines.push(`| all | | ${((at.total - base.total) / certs).toFixed(0)} |`);
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // FILE [COUNT [BASE_FILE BASE_COUNT]]: the kinds, or with a smaller run's snapshot, what each certificate adds.
  const [file, count, baseFile, baseCount] = process.argv.slice(2);
  if (!file) throw new Error('usage: heap-summary.ts FILE [COUNT [BASE_FILE BASE_COUNT]]');
  const at = summariseHeap(await readHeapSnapshot(file));
  if (baseFile) {
    const base = summariseHeap(await readHeapSnapshot(baseFile));
    console.log(heapGrowthTable({ ...at, count: Number(count) }, { ...base, count: Number(baseCount) }, 25));
  } else console.log(heapTable(at, Number(count ?? 1), 25));
}
