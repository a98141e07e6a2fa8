// A real Sentinel deployment for the tests: a master, a replica and one Sentinel
// (`redis-server <conf> --sentinel`), all on 127.0.0.1 with free ports. Sentinel rewrites its
// configuration file, so each Sentinel gets its own file in `dir`.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, RedisServer } from './redis-server.ts';

export const MASTER_NAME = 'stapler-test';

export interface SentinelSetup {
  readonly master: RedisServer;
  readonly replica: RedisServer;
  readonly sentinel: RedisServer;
  /** The sentinel option of RedisStore for this setup. */
  readonly option: { readonly name: string; readonly nodes: readonly { host: string; port: number }[] };
  /** The port of the master Sentinel names now. */
  masterPort(): number;
  /** `SENTINEL FAILOVER`, then wait until Sentinel names the replica and it accepts writes. */
  failover(): Promise<RedisServer>;
  /** Wait until Sentinel names `server` as master and `server` says it is one. */
  waitForMaster(server: RedisServer, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

async function until(what: string, timeoutMs: number, check: () => boolean): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    let ok: boolean;
    try {
      ok = check();
    } catch {
      ok = false; // a server restarting or failing over: ask again
    }
    if (ok) return;
    if (Date.now() > end) throw new Error(`sentinel setup: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startSentinel(dir: string): Promise<SentinelSetup> {
  // A full sync goes through an RDB file, written in the server's directory: `dir`, not ours.
  const master = await RedisServer.start(['--dir', dir]);
  const replica = await RedisServer.start(['--dir', dir, '--replicaof', '127.0.0.1', String(master.port)]);
  const port = await freePort();
  const conf = join(dir, `sentinel-${port}.conf`);
  await writeFile(
    conf,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      'protected-mode no',
      `dir ${dir}`,
      `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${master.port} 1`,
      `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
      `sentinel failover-timeout ${MASTER_NAME} 10000`,
      `sentinel parallel-syncs ${MASTER_NAME} 1`,
      '',
    ].join('\n'),
  );
  const sentinel = await RedisServer.startWithConfig(conf, ['--sentinel'], port);
  const masterPort = (): number => Number(sentinel.cli('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME).split('\n')[1]);
  const isMaster = (server: RedisServer): boolean => server.cli('ROLE').split('\n')[0] === 'master';
  const waitForMaster = async (server: RedisServer, timeoutMs = 30_000): Promise<void> => {
    await until(`port ${server.port} as master`, timeoutMs, () => masterPort() === server.port && isMaster(server));
  };
  // Failover needs a replica in sync that Sentinel knows about.
  await until('the replica in sync', 15_000, () => replica.cli('INFO', 'replication').includes('master_link_status:up'));
  await until('Sentinel to know the replica', 30_000, () => sentinel.cli('SENTINEL', 'REPLICAS', MASTER_NAME).includes(String(replica.port)));
  return {
    master,
    replica,
    sentinel,
    option: { name: MASTER_NAME, nodes: [{ host: '127.0.0.1', port }] },
    masterPort,
    waitForMaster,
    async failover() {
      const next = masterPort() === master.port ? replica : master;
      // Sentinel refuses while the new replica has not been seen in sync yet ("NOGOODSLAVE"): retry.
      await until('Sentinel to accept the failover', 30_000, () => sentinel.cli('SENTINEL', 'FAILOVER', MASTER_NAME) === 'OK');
      await waitForMaster(next);
      return next;
    },
    async stop() {
      await Promise.all([sentinel.stop(), replica.stop(), master.stop()]);
    },
  };
}
