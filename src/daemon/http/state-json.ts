// /status.json's body, streamed: the counters, then every file's state one line each, in slices
// that yield to the event loop and wait for the client to take them. At 100,000 files the body
// is about 70 MB: built whole, it would hold the event loop for seconds and the memory for as
// long as a slow client takes to read it.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { DaemonState } from '../state.ts';

const SLICE = 500;

/** Write `chunk`; resolves false when the client is gone (nothing more is sent). */
function write(res: ServerResponse, chunk: string): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  if (res.write(chunk)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      res.off('drain', drained);
      res.off('close', closed);
      resolve(ok);
    };
    const drained = (): void => done(true);
    const closed = (): void => done(false);
    res.once('drain', drained);
    res.once('close', closed);
  });
}

/** Send the state as JSON (`extra`'s keys after `files`), or only the headers for HEAD. */
export async function sendStateJson(req: IncomingMessage, res: ServerResponse, state: DaemonState, extra: Record<string, unknown> = {}): Promise<void> {
  res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  if (req.method === 'HEAD') return void res.end();
  const { files, ...counters } = state;
  // The counters' object without its closing "\n}", then the files' array inside it.
  if (!(await write(res, `${JSON.stringify(counters, null, 2).slice(0, -2)},\n  "files": [`))) return;
  for (let i = 0; i < files.length; i += SLICE) {
    const lines = files.slice(i, i + SLICE).map((f) => `\n    ${JSON.stringify(f)}`);
    if (!(await write(res, `${i > 0 ? ',' : ''}${lines.join(',')}`))) return;
    await nextTurn();
  }
  const tail = Object.entries(extra).map(([k, v]) => `,\n  ${JSON.stringify(k)}: ${JSON.stringify(v, null, 2).replaceAll('\n', '\n  ')}`);
  res.end(`\n  ]${tail.join('')}\n}\n`);
}
