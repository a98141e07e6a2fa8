// One host of a fleet, for the fleet test and bench/fleet.ts: a Stapler on two tiers (its own
// directory under Redis) with the given certificates. It speaks JSON lines:
//   out {"event":"ready","ms":…,"served":N}            once every certificate is stapled (or the timeout)
//   in  "refresh"   -> force a refresh of every certificate here; out {"event":"refreshed"}
//   in  "expect T"  -> out {"event":"caught-up","at":ms} once every staple has thisUpdate >= T
//   in  "status"    -> out {"event":"status","served":N,"minThisUpdate":T}
// Usage: node --import tsx fleet-member.ts <redisUrl> <storeDir> <chains.json> [pollMs] [commandTimeoutMs]

import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { silentLogger } from '../../src/engine/logger.ts';
import { Stapler } from '../../src/node/stapler.ts';
import { DirectoryStore } from '../../src/store/directory-store.ts';
import { RedisStore } from '../../src/store/redis-store.ts';
import { TieredStore } from '../../src/store/tiered-store.ts';

const [redisUrl, storeDir, chainsFile, pollArg, timeoutArg] = process.argv.slice(2) as [string, string, string, string | undefined, string | undefined];
const chains = JSON.parse(readFileSync(chainsFile, 'utf8')) as string[];
const started = Date.now();
const store = new TieredStore(
  new DirectoryStore(storeDir),
  new RedisStore({ url: redisUrl, pollMs: Number(pollArg ?? 30_000), commandTimeoutMs: Number(timeoutArg ?? 3_000) }),
);
const stapler = new Stapler({ store, logger: silentLogger, timeoutMs: 5_000 });
const say = (line: object): void => void process.stdout.write(`${JSON.stringify(line)}\n`);

function summary(): { served: number; minThisUpdate: number } {
  const all = stapler.status();
  const served = all.filter((s) => s.thisUpdate !== null).length;
  const minThisUpdate = all.reduce((min, s) => Math.min(min, s.thisUpdate ?? 0), Number.POSITIVE_INFINITY);
  return { served, minThisUpdate };
}

let expecting: number | null = null;
const check = (): void => {
  if (expecting !== null && summary().minThisUpdate >= expecting) {
    expecting = null;
    say({ event: 'caught-up', at: Date.now() });
  }
};
stapler.on('updated', check);

for (const chain of chains) await stapler.add(chain);
await stapler.ready({ timeout: 60_000 }).catch(() => undefined);
say({ event: 'ready', ms: Date.now() - started, ...summary() });

const input = createInterface({ input: process.stdin });
input.on('line', (line) => {
  const [command, arg] = line.trim().split(/\s+/);
  if (command === 'refresh') {
    void Promise.all(stapler.status().map((s) => stapler.refreshById(s.id))).then(() => say({ event: 'refreshed' }));
  } else if (command === 'expect') {
    expecting = Number(arg);
    check();
  } else if (command === 'status') {
    say({ event: 'status', ...summary() });
  }
});
input.on('close', () => void stapler.close().then(() => process.exit(0)));
