// A child process for redis-feed-leak.test.ts: one RedisConnection to the fake Redis whose port
// is argv[2], asked for a change feed (which fails), then closed. The process must then exit by
// itself: a feed connection left behind (reconnecting, or pinging) would keep it alive.

import { RedisConnection } from '../../../src/store/redis-connection.ts';
import { resolveRedisOptions } from '../../../src/store/redis-options.ts';

const port = Number(process.argv[2]);
const conn = new RedisConnection(resolveRedisOptions({ url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 500, commandTimeoutMs: 500 }), undefined);
const failed = await conn
  .subscribe('stapler:feed', () => undefined)
  .then(
    () => 'subscribed',
    (err: unknown) => `refused: ${err instanceof Error ? err.message : String(err)}`,
  );
await conn.close();
process.stdout.write(`${failed}\n`);
