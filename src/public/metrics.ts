// `stapler/metrics`: Prometheus metrics (`stapler.metrics()` makes them for a Stapler), and the
// health rules they and the daemon share. prom-client (an optional dependency) loads when the
// first StaplerMetrics is made.
export { StaplerMetrics, METRIC_NAMES, type StaplerMetricsOptions, type HandshakeCounts } from '../metrics/metrics.ts';
export { judgeHealth, mustStapleAtRisk, LAPSE_WARNING_MS, type Health } from '../metrics/certificate-risk.ts';
