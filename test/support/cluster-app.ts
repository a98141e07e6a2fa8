// A clustered HTTPS app for the cluster test: the primary forks two workers; each worker runs
// its own Stapler on a shared store directory and serves on the shared port.
// Usage: node --import tsx cluster-app.ts <storeDir> <fullchain.pem> <key.pem>
// The primary prints one JSON line when every worker is ready: {"port":N,"workers":[...]}.

import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { silentLogger } from '../../src/engine/logger.ts';
import { Stapler } from '../../src/node/stapler.ts';

const [storeDir, chainFile, keyFile] = process.argv.slice(2) as [string, string, string];
const WORKERS = 2;

if (cluster.isPrimary) {
  const ready: unknown[] = [];
  let port = 0;
  for (let i = 0; i < WORKERS; i++) cluster.fork();
  cluster.on('message', (_worker, message: { port: number; status: unknown }) => {
    port = message.port;
    ready.push(message.status);
    if (ready.length === WORKERS) process.stdout.write(`${JSON.stringify({ port, workers: ready })}\n`);
  });
  const stop = (): void => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  const chain = readFileSync(chainFile, 'utf8');
  const stapler = new Stapler({ store: { directory: storeDir }, logger: silentLogger, timeoutMs: 2_000 });
  await stapler.add(chain);
  const server = createServer({ cert: chain, key: readFileSync(keyFile) }, (_req, res) => res.end(`worker ${process.pid}`));
  stapler.attach(server);
  await stapler.ready({ timeout: 10_000 });
  server.listen(0, '127.0.0.1', () => {
    process.send!({ port: (server.address() as AddressInfo).port, status: { pid: process.pid, ...stapler.status()[0] } });
  });
}
