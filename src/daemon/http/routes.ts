// The routes the daemon's listener serves. Each reads the daemon's state when it answers (the
// engine behind it is replaced when a SIGHUP changes its settings).

import type { StaplerMetrics } from '../../metrics/metrics.ts';
import type { Daemon } from '../daemon.ts';
import { observeRoutes, type ObserveRouteOptions } from './observe-routes.ts';
import type { HttpRoute } from './route.ts';

export function daemonRoutes(daemon: Daemon, metrics?: StaplerMetrics, opts: ObserveRouteOptions = {}): HttpRoute[] {
  return [...(metrics ? observeRoutes(daemon, metrics, opts) : [])];
}
