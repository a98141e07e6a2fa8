// One GET on a connection of its own (no agent, no keep-alive reuse): what a client arriving
// during a flood of held connections gets.

import { get } from 'node:http';

/** The status, or the error's code. */
export function freshGet(port: number, path: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}
