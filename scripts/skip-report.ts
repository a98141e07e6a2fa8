// Reads the TAP output of a test run and judges its skips (scripts/test.sh runs it after the
// tests). Node 20 counts none of the tests of a skipped `describe`, so the skips are counted
// here from the TAP lines themselves: skipped suites and skipped tests, by reason.
//   `missing peer <name>: ...`  a peer the machine lacks: fails the run unless
//                               STAPLER_ALLOW_MISSING_PEERS names it (a,b,...) or is 1;
//   `runtime: ...`              a property of the Node runtime: allowed;
//   anything else, or nothing   fails the run (every skip says why, and only those two are fine).
// Prints the totals by peer. Usage: node --import tsx scripts/skip-report.ts TAP_FILE

import { readFileSync } from 'node:fs';
import { hasPeer, PEER_NAMES } from '../test/support/peers.ts';

interface Skip {
  readonly name: string;
  readonly reason: string;
  readonly suite: boolean;
}

export function readSkips(tap: string): Skip[] {
  const lines = tap.split('\n');
  const skips: Skip[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)(?:not )?ok \d+ - (.*?) # SKIP(?: (.*))?$/.exec(lines[i]!);
    if (!m) continue;
    let suite = false;
    for (let j = i + 1; j < lines.length && lines[j]!.startsWith(`${m[1]!}  `); j++) {
      if (lines[j]!.trim() === "type: 'suite'") suite = true;
      if (lines[j]!.trim() === '...') break;
    }
    skips.push({ name: m[2]!, reason: (m[3] ?? '').trim(), suite });
  }
  return skips;
}

function allowed(peer: string): boolean {
  const raw = (process.env.STAPLER_ALLOW_MISSING_PEERS ?? '').trim();
  if (raw === '1') return true;
  return raw
    .split(',')
    .map((p) => p.trim())
    .includes(peer);
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
const count = (skips: Skip[]): string => `${plural(skips.filter((s) => s.suite).length, 'suite')}, ${plural(skips.filter((s) => !s.suite).length, 'test')}`;

function main(file: string): number {
  const skips = readSkips(readFileSync(file, 'utf8'));
  const byPeer = new Map<string, Skip[]>();
  const runtime: Skip[] = [];
  const unexplained: Skip[] = [];
  for (const s of skips) {
    const peer = /^missing peer ([\w-]+):/.exec(s.reason)?.[1];
    if (peer !== undefined) byPeer.set(peer, [...(byPeer.get(peer) ?? []), s]);
    else if (s.reason.startsWith('runtime:')) runtime.push(s);
    else unexplained.push(s);
  }
  const problems: string[] = [];
  console.log('== peers');
  for (const peer of new Set([...PEER_NAMES, ...byPeer.keys()])) {
    const skipped = byPeer.get(peer) ?? [];
    const state = hasPeer(peer as never) ? 'present' : 'MISSING';
    const note = skipped.length === 0 ? '' : allowed(peer) ? ' (allowed by STAPLER_ALLOW_MISSING_PEERS)' : ' (FAILS the run)';
    console.log(`  ${peer.padEnd(9)} ${state.padEnd(8)} skipped: ${count(skipped)}${note}`);
    if (skipped.length > 0 && !allowed(peer))
      problems.push(`missing peer ${peer}: ${count(skipped)} skipped (${skipped[0]!.reason.replace(/^missing peer [\w-]+: /, '')})`);
  }
  if (runtime.length > 0) console.log(`  runtime skips (allowed): ${count(runtime)}: ${runtime.map((s) => `${s.name} (${s.reason})`).join('; ')}`);
  for (const s of unexplained) problems.push(`skip without a peer or runtime reason: "${s.name}" # SKIP ${s.reason || '(no reason given)'}`);
  console.log(`skipped in all: ${count(skips)}`);
  for (const p of problems) console.error(`scripts/test.sh: ${p}`);
  if (problems.some((p) => p.startsWith('missing peer'))) {
    console.error(
      'scripts/test.sh: install the peers with scripts/install-peers.sh, or set STAPLER_ALLOW_MISSING_PEERS=<peer,...> (or =1) for a partial local run',
    );
  }
  return problems.length === 0 ? 0 : 1;
}

if (process.argv[1] === new URL(import.meta.url).pathname) process.exitCode = main(process.argv[2]!);
