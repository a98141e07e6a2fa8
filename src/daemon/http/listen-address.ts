// The listener's address: "PORT" (loopback), "HOST:PORT" or "[IPv6]:PORT". Loopback unless
// the operator names another address.

import { isIP } from 'node:net';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

export const DEFAULT_LISTEN_HOST = '127.0.0.1';

/** The address, or why the text is not one (for the error that names the key). */
export function parseListenAddress(text: string): ListenAddress | string {
  const t = text.trim();
  if (t.includes('://')) return 'give HOST:PORT (or PORT), not a URL';
  let host = DEFAULT_LISTEN_HOST;
  let port = t;
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(t);
  if (bracketed) {
    host = bracketed[1]!;
    port = bracketed[2]!;
    if (isIP(host) !== 6) return `"${host}" in brackets is not an IPv6 address`;
  } else if (t.includes(':')) {
    const at = t.lastIndexOf(':');
    host = t.slice(0, at);
    port = t.slice(at + 1);
    if (host.includes(':')) return 'an IPv6 address needs brackets, as in [::1]:8080';
    if (host === '') return 'the host is empty: give HOST:PORT, or PORT alone for 127.0.0.1';
    if (isIP(host) === 0 && !/^[A-Za-z0-9.-]{1,253}$/.test(host)) return `"${host}" is not an IP address or host name`;
  }
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) return `"${port}" is not a port (0 to 65535)`;
  return { host, port: Number(port) };
}

/** Whether only this machine can reach the address. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export const formatAddress = (a: ListenAddress): string => (a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`);
