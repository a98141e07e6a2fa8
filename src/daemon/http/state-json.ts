// /status.json's body, streamed: the counters, then every file's state one line each, in slices
// that yield to the event loop and wait for the client to take them. At 100,000 files the body
// is about 70 MB: built whole, it would hold the event loop for seconds and the memory for as
// long as a slow client takes to read it.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { DaemonState } from '../state.ts';

const SLICE = 500;

/** The JSON text, a slice of files at a time (`extra`'s keys after `files`). */
async function* stateJson(state: DaemonState, extra: Record<string, unknown>): AsyncGenerator<string> {
  const { files, ...counters } = state;
  // The counters' object without its closing "\n}", then the files' array inside it.
  yield `${JSON.stringify(counters, null, 2).slice(0, -2)},\n  "files": [`;
  for (let i = 0; i < files.length; i += SLICE) {
    const lines = files.slice(i, i + SLICE).map((f) => `\n    ${JSON.stringify(f)}`);
    yield `${i > 0 ? ',' : ''}${lines.join(',')}`;
    await nextTurn();
  }
  const tail = Object.entries(extra).map(([k, v]) => `,\n  ${JSON.stringify(k)}: ${JSON.stringify(v, null, 2).replaceAll('\n', '\n  ')}`);
  yield `\n  ]${tail.join('')}\n}\n`;
}

/** Send the state as JSON, or only the headers for HEAD. A client that goes away stops it. */
export async function sendStateJson(req: IncomingMessage, res: ServerResponse, state: DaemonState, extra: Record<string, unknown> = {}): Promise<void> {
  res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  if (req.method === 'HEAD') return void res.end();
  // One slice read ahead at most (highWaterMark 1 byte): the client's pace is the body's.
  const body = Readable.from(stateJson(state, extra), { objectMode: false, highWaterMark: 1 });
  await pipeline(body, res).catch((err: unknown) => {
    if (!res.destroyed) throw err;
  });
}
