// What the daemon's HTTP listener serves: a list of routes. The OCSP responder answers any path
// (RFC 6960 appendix A puts the request after any prefix); the other routes own exact paths.

import type { IncomingMessage, ServerResponse } from 'node:http';

export interface HttpRoute {
  /** For logs and metrics. */
  readonly name: string;
  /** The exact paths this route owns, or null for the route that takes every other path. */
  readonly paths: readonly string[] | null;
  /** The methods it takes; any other gets 405 with an Allow header. */
  readonly methods: readonly string[];
  /**
   * Answer one request. `path` is the request's path without the query, also for an
   * absolute-URI request line (a proxy-style request, as Apache's SSLOCSPProxyURL sends).
   * A throw (or rejection) becomes a 500, logged; the listener never crashes.
   */
  handle(req: IncomingMessage, res: ServerResponse, path: string): void | Promise<void>;
}
