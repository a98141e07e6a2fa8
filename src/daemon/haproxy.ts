// HAProxy's runtime API: `set ssl ocsp-response <base64>` on the stats socket updates a
// certificate's staple with no reload. HAProxy matches the response to its certificate by CertID.

import { connect, type Socket } from 'node:net';
import type { Logger } from '../engine/logger.ts';

export class HaproxyError extends Error {
  override readonly name = 'HaproxyError';
}

/** The socket: a path (unix socket), or host:port. */
function open(socket: string): Socket {
  const m = /^([^/][^:]*):(\d+)$/.exec(socket);
  return m ? connect(Number(m[2]), m[1]) : connect(socket);
}

/** The longest answer taken from the stats socket: HAProxy's answers to our commands are one line. */
export const MAX_ANSWER_BYTES = 64 * 1024;

/** Send one command and return HAProxy's answer (it closes the connection after it). Bounded in size and time. */
export function haproxyCommand(socket: string, command: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const conn = open(socket);
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err: Error | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      conn.destroy();
      if (err) reject(err);
      else resolve(Buffer.concat(chunks).toString('utf8').trim());
    };
    const timer = setTimeout(() => finish(new HaproxyError(`stats socket ${socket}: no complete answer within ${timeoutMs} ms`)), timeoutMs);
    conn.on('connect', () => conn.write(`${command}\n`));
    conn.on('data', (d: Buffer) => {
      size += d.length;
      if (size > MAX_ANSWER_BYTES)
        return finish(new HaproxyError(`stats socket ${socket}: answer over ${MAX_ANSWER_BYTES / 1024} KiB, refused (is this HAProxy's stats socket?)`));
      chunks.push(d);
    });
    conn.on('end', () => finish(null));
    conn.on('error', (err: NodeJS.ErrnoException) => {
      const why =
        err.code === 'ENOENT'
          ? 'does not exist'
          : err.code === 'ECONNREFUSED'
            ? 'refuses connections'
            : err.code === 'EACCES'
              ? 'permission denied'
              : err.message;
      finish(new HaproxyError(`stats socket ${socket}: ${why}`));
    });
  });
}

/** Push a staple; resolves when HAProxy says it updated a certificate, rejects with its answer otherwise. */
export async function pushOcspResponse(socket: string, der: Buffer, timeoutMs: number): Promise<void> {
  const answer = await haproxyCommand(socket, `set ssl ocsp-response ${der.toString('base64')}`, timeoutMs);
  if (!/updated/i.test(answer)) throw new HaproxyError(`stats socket ${socket}: HAProxy refused the response: ${answer.split('\n')[0] || '(no answer)'}`);
}

/**
 * HAProxy's own rule (src/ssl_ocsp.c and ssl_sock.c, OCSP_MAX_RESPONSE_TIME_SKEW): a response
 * "expires" 300 s before its nextUpdate, and one already "expired" is not stapled (older
 * versions ignore it silently, newer ones refuse it: "Must be valid during at least 300s").
 */
export const HAPROXY_MIN_VALIDITY_MS = 300_000;

/** Why HAProxy would not staple a response with this nextUpdate now, or null. */
export function haproxyWouldIgnore(nextUpdate: number | null, now: number): string | null {
  if (nextUpdate === null) return 'HAProxy ignores a response without nextUpdate';
  const left = Math.floor((nextUpdate - now) / 1000);
  return nextUpdate - HAPROXY_MIN_VALIDITY_MS < now
    ? `HAProxy does not staple a response valid for less than ${HAPROXY_MIN_VALIDITY_MS / 1000} s (this one: ${left} s to its nextUpdate)`
    : null;
}

/** Push a staple to HAProxy, logging success; throws HaproxyError (the caller records it and reloads). */
export async function pushStaple(
  haproxy: { readonly socket: string; readonly timeoutMs: number },
  staple: Buffer,
  about: { readonly serial: string | null },
  log: Logger,
): Promise<void> {
  await pushOcspResponse(haproxy.socket, staple, haproxy.timeoutMs);
  log.info({ socket: haproxy.socket, serial: about.serial }, 'staple pushed to HAProxy');
}
