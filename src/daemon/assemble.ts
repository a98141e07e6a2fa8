// The daemon as `stapler daemon` runs it, assembled here (not in the CLI) so that tests build
// the same thing: the service, with metrics counting through its one engine's fetcher and
// store, and alerts on that engine's events. The engine lives as long as the daemon, so each
// watcher is attached once.

import type { Logger } from '../engine/logger.ts';
import type { CertificateStatus } from '../engine/types.ts';
import { subjectSerial } from '../metrics/certificate-risk.ts';
import { StaplerMetrics } from '../metrics/metrics.ts';
import { Alerts } from './alerts/alerts.ts';
import { DEFAULT_HOOKS } from './alerts/hook-config.ts';
import type { DaemonConfig } from './config.ts';
import { OCSP_RESULTS } from './http/ocsp-route.ts';
import { DaemonService, type ServiceDeps } from './service.ts';

export interface AssembledDaemon {
  readonly service: DaemonService;
  readonly metrics: StaplerMetrics;
  readonly alerts: Alerts;
}

/** The daemon service with metrics and alerts watching its engine, and the metrics routes. */
export function assembleDaemon(config: DaemonConfig, logger: Logger, deps: Partial<Omit<ServiceDeps, 'logger'>> = {}): AssembledDaemon {
  let service: DaemonService | null = null;
  const now = (): number => (deps.clock ?? { now: Date.now }).now();
  // The `cert` label: the first file that holds the certificate (an index lookup), else subject and serial.
  const labels = (s: CertificateStatus): string => service?.daemon.fileOf(s.id) ?? subjectSerial(s);
  const metrics = new StaplerMetrics({ ...config.metrics, certLabels: () => labels });
  const alerts = new Alerts(config.hooks ?? DEFAULT_HOOKS, { logger, label: labels, now });
  const instrument = { fetcher: metrics.instrumentFetcher.bind(metrics), store: metrics.instrumentStore.bind(metrics) };
  service = new DaemonService(config, { ...deps, logger, instrument, metrics, ocspObserver: metrics.responderObserver(OCSP_RESULTS) });
  metrics.observe(service.daemon.engine);
  alerts.watch(service.daemon.engine);
  return { service, metrics, alerts };
}
