// The daemon's HTTP listener: one node:http server with bounded headers, waits and connections,
// and a list of routes (the OCSP responder; metrics and status pages). A route's error is a 500
// and a log line; nothing a client sends can crash the daemon.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from '../../engine/logger.ts';
import { connectionCap, openFileLimit } from './fd-limit.ts';
import { formatAddress, isLoopback, type ListenAddress } from './listen-address.ts';
import type { HttpRoute } from './route.ts';

/** The listener's bounds. Every wait is bounded, so a slow or idle client cannot hold a slot. */
export const LISTENER_LIMITS = {
  /** Request line and headers together. */
  maxHeaderBytes: 8 * 1024,
  /** Until the headers are in (slowloris). */
  headersTimeoutMs: 5_000,
  /** Until the whole request is in. */
  requestTimeoutMs: 10_000,
  /** An idle kept-alive connection. */
  keepAliveTimeoutMs: 5_000,
  /**
   * Open connections. At the cap a new connection evicts the oldest one that has not sent a
   * complete request yet (slowloris holds slots that way), else the oldest idle kept-alive one;
   * only when every connection has a request in flight is the new one refused. No per-IP limit:
   * Apache and an attacker on the same host share 127.0.0.1. Lowered under a low `ulimit -n`
   * (fd-limit.ts), or the cap is never reached and EMFILE drops every new connection instead.
   */
  maxConnections: 512,
  /** How long a stop waits for requests in flight before closing their connections. */
  stopGraceMs: 2_000,
} as const;

export class HttpListener {
  private readonly server: Server;
  private readonly exact = new Map<string, HttpRoute>();
  private readonly fallback: HttpRoute | null;
  private readonly longestExact: number;
  private readonly sockets = new Set<Socket>();
  /** Connections that have not sent a complete request yet, oldest first. */
  private readonly waiting = new Set<Socket>();
  /** Kept-alive connections between requests, longest idle first. */
  private readonly idle = new Set<Socket>();
  /** Connections evicted or refused at the cap since the listener started. */
  evicted = 0;
  refused = 0;
  /** Whether the cap is being hit (logged on the transitions, not per connection). */
  private atCap = false;
  /** LISTENER_LIMITS.maxConnections, or fewer under the process's open-file limit. */
  readonly maxConnections: number;

  /**
   * `open` false: every request gets 503 "starting" until open() (the daemon binds before it has
   * read its certificate files, so that an address in use fails the start at once).
   */
  constructor(
    routes: readonly HttpRoute[],
    private readonly log: Logger,
    private opened = true,
    fdLimit: number | null = openFileLimit(),
  ) {
    this.maxConnections = connectionCap(LISTENER_LIMITS.maxConnections, fdLimit);
    for (const r of routes) {
      for (const p of r.paths ?? []) {
        if (this.exact.has(p)) throw new Error(`two routes own ${p}: ${this.exact.get(p)!.name} and ${r.name}`);
        this.exact.set(p, r);
      }
    }
    this.longestExact = Math.max(0, ...[...this.exact.keys()].map((p) => p.length));
    const fallbacks = routes.filter((r) => r.paths === null);
    if (fallbacks.length > 1) throw new Error(`only one route may take every path (${fallbacks.map((r) => r.name).join(', ')})`);
    this.fallback = fallbacks[0] ?? null;
    this.server = createServer(
      {
        maxHeaderSize: LISTENER_LIMITS.maxHeaderBytes,
        headersTimeout: LISTENER_LIMITS.headersTimeoutMs,
        requestTimeout: LISTENER_LIMITS.requestTimeoutMs,
        keepAliveTimeout: LISTENER_LIMITS.keepAliveTimeoutMs,
        // Node checks the two timeouts above only this often (30 s by default).
        connectionsCheckingInterval: 1_000,
      },
      (req, res) => void this.dispatch(req, res),
    );
    this.server.on('connection', (s: Socket) => this.admit(s));
    this.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const s = req.socket;
      this.waiting.delete(s);
      this.idle.delete(s);
      res.once('finish', () => {
        if (this.sockets.has(s) && !s.destroyed) this.idle.add(s);
      });
    });
    // A malformed request line, headers over the limit, a timeout: answer if the socket still
    // can, then drop it.
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      if (socket.writable)
        socket.end(
          `HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
        );
      socket.destroy();
    });
  }

  /** Take a new connection, making room at the cap (see LISTENER_LIMITS.maxConnections). */
  private admit(s: Socket): void {
    if (this.sockets.size >= this.maxConnections) {
      const victim = first(this.waiting) ?? first(this.idle);
      if (!this.atCap) {
        this.atCap = true;
        this.log.warn(
          { maxConnections: this.maxConnections },
          'HTTP listener at its connection cap: evicting the oldest connections that have not sent a complete request (a slowloris attack, or too many clients)',
        );
      }
      if (!victim) {
        this.refused++;
        s.destroy();
        return;
      }
      this.evicted++;
      this.forget(victim);
      victim.destroy();
    } else if (this.atCap && this.sockets.size < this.maxConnections / 2) {
      this.atCap = false;
      this.log.info({ evicted: this.evicted, refused: this.refused }, 'HTTP listener below its connection cap again');
    }
    this.sockets.add(s);
    this.waiting.add(s);
    s.once('close', () => this.forget(s));
  }

  private forget(s: Socket): void {
    this.sockets.delete(s);
    this.waiting.delete(s);
    this.idle.delete(s);
  }

  /** Answer requests from the routes (see the constructor). */
  open(): void {
    this.opened = true;
  }

  /** Bind; rejects with the address and the reason (in use, not allowed, not found). */
  async listen(address: ListenAddress): Promise<ListenAddress> {
    await new Promise<void>((resolve, reject) => {
      const fail = (err: NodeJS.ErrnoException): void => {
        const why =
          err.code === 'EADDRINUSE' ? 'the address is in use' : err.code === 'EACCES' ? 'permission denied (ports below 1024 need privileges)' : err.message;
        reject(new Error(`cannot listen on ${formatAddress(address)}: ${why}`));
      };
      this.server.once('error', fail);
      this.server.listen(address.port, address.host, () => {
        this.server.off('error', fail);
        resolve();
      });
    });
    this.server.on('error', (err) => this.log.error({ err: err.message }, 'HTTP listener error'));
    const bound = this.address()!;
    const routes = [...new Set([...this.exact.values(), ...(this.fallback ? [this.fallback] : [])])].map((r) => r.name);
    const fields = { listen: formatAddress(bound), routes, maxConnections: this.maxConnections };
    if (isLoopback(bound.host)) this.log.info(fields, 'listening');
    else this.log.warn(fields, 'listening on an address other hosts can reach: it was configured so');
    return bound;
  }

  /** The bound address (with the port chosen for port 0), or null before listen(). */
  address(): ListenAddress | null {
    const a = this.server.address() as AddressInfo | null;
    return a ? { host: a.address, port: a.port } : null;
  }

  /** Stop taking connections; requests in flight get a short grace, then their sockets close. */
  async close(): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const grace = setTimeout(() => {
      for (const s of this.sockets) s.destroy();
    }, LISTENER_LIMITS.stopGraceMs);
    await closed;
    clearTimeout(grace);
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = requestPath(req.url ?? '/');
    // A path longer than every exact one is not hashed for the lookup (an 8 KiB path would be).
    const route = (path.length <= this.longestExact ? this.exact.get(path) : undefined) ?? this.fallback;
    try {
      if (!this.opened) return plain(res, 503, 'starting: the certificate files are being read\n', { 'Retry-After': '1', 'Cache-Control': 'no-store' });
      if (!route) return plain(res, 404, 'not found\n');
      if (!route.methods.includes(req.method ?? '')) {
        res.setHeader('Allow', route.methods.join(', '));
        return plain(res, 405, `${req.method ?? '?'} is not allowed here (allowed: ${route.methods.join(', ')})\n`);
      }
      await route.handle(req, res, path);
    } catch (err) {
      this.log.error({ route: route?.name, path: path.slice(0, 200), err: err instanceof Error ? err.message : String(err) }, 'HTTP request failed');
      if (!res.headersSent) plain(res, 500, 'internal error\n');
      else res.destroy();
    }
  }
}

const first = (set: Set<Socket>): Socket | undefined => set.values().next().value;

/**
 * The path of a request target: origin-form as is, absolute-form without scheme and authority, no
 * query. Origin-form (nearly every request) takes no pattern: two character searches, so an 8 KiB
 * target costs little more than a short one.
 */
export function requestPath(target: string): string {
  const withoutAuthority = target.startsWith('/') ? target : target.replace(/^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/, '');
  const query = withoutAuthority.indexOf('?');
  const fragment = withoutAuthority.indexOf('#');
  const end = query < 0 ? fragment : fragment < 0 ? query : Math.min(query, fragment);
  const path = end < 0 ? withoutAuthority : withoutAuthority.slice(0, end);
  return path === '' ? '/' : path;
}

/** A short text answer. */
export function plain(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}
