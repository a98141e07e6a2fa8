// The soak's library server: an https server stapling through Stapler, in its own process (as a
// user's would be). Usage: node --import tsx library-server.ts <storeDir> <fullchain+key.pem>
// Prints {"port":N} once it listens; SIGTERM closes it.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { silentLogger } from '../../src/engine/logger.ts';
import { Stapler } from '../../src/node/stapler.ts';
import { SOAK_ENGINE } from './settings.ts';

const [storeDir, pemFile] = process.argv.slice(2) as [string, string];
const pem = readFileSync(pemFile, 'utf8');
const stapler = new Stapler({ ...SOAK_ENGINE, store: { directory: storeDir }, logger: silentLogger });
await stapler.add(pem);
const server = createServer({ cert: pem, key: pem }, (_req, res) => res.end('ok\n'));
stapler.attach(server);
server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`));
process.on('SIGTERM', () => {
  server.close();
  void stapler.close().then(() => process.exit(0));
});
