// The routes the daemon's listener serves. Each reads the daemon's state when it answers (the
// engine behind it is replaced when a SIGHUP changes its settings).

import type { Logger } from '../../engine/logger.ts';
import type { StaplerMetrics } from '../../metrics/metrics.ts';
import type { Daemon } from '../daemon.ts';
import { RESPONDER_HANDOFF_MS } from '../handoff.ts';
import { observeRoutes, type ObserveRouteOptions } from './observe-routes.ts';
import { OcspRoute, type OcspObserver } from './ocsp-route.ts';
import { plain } from './listener.ts';
import type { ProbeConfig } from '../probe-config.ts';
import type { ProbeService } from '../probe-service.ts';
import { probeRoute } from './probe-route.ts';
import type { HttpRoute } from './route.ts';

/**
 * Paths that are not OCSP requests, asked for by browsers (on /status) and crawlers on their own:
 * each gets a 404 here, and is never parsed as an OCSP request nor counted as one. With the
 * routes' own paths (/metrics, /healthz, /status.json, /status), these are every path the OCSP
 * responder does not answer.
 */
export const RESERVED_PATHS = ['/favicon.ico', '/robots.txt'] as const;

export interface DaemonRouteOptions extends ObserveRouteOptions {
  readonly ocspObserver?: OcspObserver;
  /** With metrics: /metrics, /healthz, /status.json and /status too. */
  readonly metrics?: StaplerMetrics;
  /** /probe (off unless probe.allow is configured), and the configured targets' results in /metrics. */
  readonly probes?: { readonly service: ProbeService; readonly settings: () => ProbeConfig | null; readonly now: () => number };
}

export function daemonRoutes(daemon: Daemon, log: Logger, options: DaemonRouteOptions = {}): HttpRoute[] {
  const ocsp = ocspRouteFor(daemon, log, options.ocspObserver);
  const probes = options.probes;
  const extraMetrics = probes ? () => probes.service.metricsText() : undefined;
  return [
    ...(options.metrics ? observeRoutes(daemon, options.metrics, { ...options, ocsp, ...(extraMetrics ? { extraMetrics } : {}) }) : []),
    ...(probes ? [probeRoute(probes.service, probes.settings, probes.now)] : []),
    reservedRoute(),
    ocsp,
  ];
}

/** The reserved paths' route: 404, whatever the method. */
export function reservedRoute(): HttpRoute {
  return {
    name: 'reserved',
    paths: RESERVED_PATHS,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'],
    handle: (_req, res, path) => plain(res, 404, `${path} is not served here\n`, { 'Cache-Control': 'max-age=86400' }),
  };
}

/** The OCSP responder over the daemon's current engine (every path not owned by another route). */
export function ocspRouteFor(daemon: Daemon, log: Logger, observer?: OcspObserver): OcspRoute {
  return new OcspRoute({ lookup: (id) => daemon.engine.lookupCertId(id, RESPONDER_HANDOFF_MS), log, observer });
}
