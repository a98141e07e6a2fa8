// The routes the daemon's listener serves. Each reads the daemon's state when it answers (the
// engine behind it is replaced when a SIGHUP changes its settings).

import type { Logger } from '../../engine/logger.ts';
import type { StaplerMetrics } from '../../metrics/metrics.ts';
import type { Daemon } from '../daemon.ts';
import { observeRoutes, type ObserveRouteOptions } from './observe-routes.ts';
import { OcspRoute, type OcspObserver } from './ocsp-route.ts';
import type { HttpRoute } from './route.ts';

export interface DaemonRouteOptions extends ObserveRouteOptions {
  readonly ocspObserver?: OcspObserver;
  /** With metrics: /metrics, /healthz, /status.json and /status too. */
  readonly metrics?: StaplerMetrics;
}

export function daemonRoutes(daemon: Daemon, log: Logger, options: DaemonRouteOptions = {}): HttpRoute[] {
  const ocsp = ocspRouteFor(daemon, log, options.ocspObserver);
  return [...(options.metrics ? observeRoutes(daemon, options.metrics, { ...options, ocsp }) : []), ocsp];
}

/** The OCSP responder over the daemon's current engine (every path not owned by another route). */
export function ocspRouteFor(daemon: Daemon, log: Logger, observer?: OcspObserver): OcspRoute {
  return new OcspRoute({ lookup: (id) => daemon.engine.lookupCertId(id), log, observer });
}
