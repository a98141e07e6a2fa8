// The routes the daemon's listener serves. Each reads the daemon's state when it answers (the
// engine behind it is replaced when a SIGHUP changes its settings).

import type { Logger } from '../../engine/logger.ts';
import type { Daemon } from '../daemon.ts';
import { OcspRoute, type OcspObserver } from './ocsp-route.ts';
import type { HttpRoute } from './route.ts';

export function daemonRoutes(daemon: Daemon, log: Logger, options: { ocspObserver?: OcspObserver } = {}): HttpRoute[] {
  return [ocspRouteFor(daemon, log, options.ocspObserver)];
}

/** The OCSP responder over the daemon's current engine (every path not owned by another route). */
export function ocspRouteFor(daemon: Daemon, log: Logger, observer?: OcspObserver): OcspRoute {
  return new OcspRoute({ lookup: (id) => daemon.stapling.lookupCertId(id), log, observer });
}
