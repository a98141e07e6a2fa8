// HAProxy's runtime API: `set ssl ocsp-response <base64>` on the stats socket updates a
// certificate's staple with no reload. HAProxy matches the response to its certificate by CertID.

import { connect, type Socket } from 'node:net';

export class HaproxyError extends Error {
  override readonly name = 'HaproxyError';
}

/** The socket: a path (unix socket), or host:port. */
function open(socket: string): Socket {
  const m = /^([^/][^:]*):(\d+)$/.exec(socket);
  return m ? connect(Number(m[2]), m[1]) : connect(socket);
}

/** Send one command and return HAProxy's answer (it closes the connection after it). */
export function haproxyCommand(socket: string, command: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const conn = open(socket);
    let answer = '';
    const timer = setTimeout(() => {
      conn.destroy();
      reject(new HaproxyError(`stats socket ${socket}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    conn.setEncoding('utf8');
    conn.on('connect', () => conn.write(`${command}\n`));
    conn.on('data', (d: string) => (answer += d));
    conn.on('end', () => {
      clearTimeout(timer);
      resolve(answer.trim());
    });
    conn.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const why = err.code === 'ENOENT' ? 'does not exist' : err.code === 'ECONNREFUSED' ? 'refuses connections' : err.code === 'EACCES' ? 'permission denied' : err.message;
      reject(new HaproxyError(`stats socket ${socket}: ${why}`));
    });
  });
}

/** Push a staple; resolves when HAProxy says it updated a certificate, rejects with its answer otherwise. */
export async function pushOcspResponse(socket: string, der: Buffer, timeoutMs: number): Promise<void> {
  const answer = await haproxyCommand(socket, `set ssl ocsp-response ${der.toString('base64')}`, timeoutMs);
  if (!/updated/i.test(answer)) throw new HaproxyError(`stats socket ${socket}: HAProxy refused the response: ${answer.split('\n')[0] || '(no answer)'}`);
}
