// Prometheus metrics for Stapler, on prom-client 15. Gauges are computed from the engine's status
// at each scrape (always right, nothing to keep in sync, and a removed certificate's series go
// with it): counts by state, verdict and responder for all certificates, and series of their own
// for the few that need a look (a problem, or the soonest to lapse), or for all by option (see
// snapshot.ts). Counters come from the engine's events and from decorators of the fetcher and
// the store. Nothing here runs on the handshake path.

import type * as PromClient from 'prom-client';
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { requireOptional } from '../io/optional-package.ts';
import { packageVersion } from '../io/package-version.ts';
import type { StaplingEngine } from '../engine/engine.ts';
import type { CertificateStatus } from '../engine/types.ts';
import { withOutputs, type OutputHealth } from '../engine/verdict.ts';
import { FAILURE_REASONS, type StapleFetcher } from '../fetch/staple-fetcher.ts';
import type { StapleStore } from '../store/store.ts';
import { mustStapleAtRisk, responderHost, subjectSerial } from './certificate-risk.ts';
import { readSnapshot, type SeriesOptions, type Snapshot } from './snapshot.ts';
import { InstrumentedFetcher } from './instrumented-fetcher.ts';
import { InstrumentedStore } from './instrumented-store.ts';

/** TLS handshakes that asked for a staple: stapled, and not. */
export interface HandshakeCounts {
  readonly stapled: number;
  readonly unstapled: number;
}

/** Options of StaplerMetrics. */
export interface StaplerMetricsOptions extends SeriesOptions {
  /** Where the metrics are registered (default: a new Registry of their own, see `registry`). */
  readonly registry?: Registry;
  /**
   * The `cert` label of each certificate, chosen once per scrape (default: subject and serial).
   * The daemon labels a certificate with its file. Keep it bounded by the managed set.
   */
  readonly certLabels?: () => (status: CertificateStatus) => string;
  /** Each certificate's outputs' health (the daemon's), chosen once per scrape: a failed output makes it WARNING here too. */
  readonly outputsOf?: () => (status: CertificateStatus) => readonly OutputHealth[];
  /** The version in stapler_build_info (default: Stapler's own, from its package.json). */
  readonly version?: string;
}

/** Every metric's name, as exported (for documentation and tests). */
export const METRIC_NAMES = [
  'stapler_build_info',
  'stapler_certificates',
  'stapler_certificates_by_verdict',
  'stapler_certificates_by_responder',
  'stapler_certificates_at_risk',
  'stapler_outputs_failing',
  'stapler_staple_soonest_valid_until_timestamp_seconds',
  'stapler_certificate_series',
  'stapler_certificate_info',
  'stapler_certificate_verdict',
  'stapler_certificate_state',
  'stapler_certificate_revoked',
  'stapler_certificate_not_after_timestamp_seconds',
  'stapler_staple_this_update_timestamp_seconds',
  'stapler_staple_next_update_timestamp_seconds',
  'stapler_staple_valid_until_timestamp_seconds',
  'stapler_next_refresh_timestamp_seconds',
  'stapler_refresh_consecutive_failures',
  'stapler_must_staple_at_risk',
  'stapler_refreshes_total',
  'stapler_refresh_failures_total',
  'stapler_fetch_duration_seconds',
  'stapler_handshakes_total',
  'stapler_store_errors_total',
  'stapler_store_lease_contention_total',
  'stapler_ocsp_responder_requests_total',
  'stapler_ocsp_responder_duration_seconds',
] as const;

type Row = { readonly s: CertificateStatus; readonly cert: string };
type Reading = Snapshot & { readonly labelled: readonly Row[] };

/** Prometheus metrics for a Stapler or the daemon's engine, on prom-client. */
export class StaplerMetrics {
  /** The registry the metrics are in: serve `await registry.metrics()` with `registry.contentType`. */
  readonly registry: Registry;
  private engine: StaplingEngine | null = null;
  private handshakes: (() => HandshakeCounts) | null = null;
  private reading: Promise<Reading> | null = null;
  private readonly series: SeriesOptions;
  private turn: Promise<void> = Promise.resolve();
  private readonly refreshes: Counter<'result'>;
  private readonly failures: Counter<'reason'>;
  private readonly fetchDuration: Histogram<'responder'>;
  private readonly storeErrors: Counter<'operation'>;
  private readonly leaseContention: Counter;
  private readonly responderRequests: Counter<'result'>;
  private readonly responderDuration: Histogram;
  private readonly certLabels: () => (status: CertificateStatus) => string;
  private readonly outputsOf: (() => (status: CertificateStatus) => readonly OutputHealth[]) | null;

  constructor(options: StaplerMetricsOptions = {}) {
    // prom-client is an optional dependency: it loads here, when metrics are first asked for.
    const { Counter, Gauge, Histogram, Registry } = requireOptional<typeof PromClient>('prom-client', 'StaplerMetrics');
    const registers = [(this.registry = options.registry ?? new Registry())];
    this.certLabels = options.certLabels ?? (() => subjectSerial);
    this.outputsOf = options.outputsOf ?? null;
    this.series = { perCertificate: options.perCertificate ?? 'problems', soonest: options.soonest ?? 100, maxProblems: options.maxProblems ?? 1_000 };
    /** A gauge filled from the scrape's reading; the first one registered reads the engine (a scrape collects them in order). */
    const family = (
      name: string,
      help: string,
      labelNames: readonly string[],
      fill: (r: Reading, set: (labels: Record<string, string>, v: number) => void) => void,
    ): void => {
      const first = this.reading === null;
      if (first) this.reading = Promise.resolve({ ...emptyReading });
      const gauge: Gauge<string> = new Gauge({
        name,
        help,
        labelNames,
        registers,
        collect: async () => {
          if (first) this.reading = this.read();
          const reading = this.reading!;
          // One event-loop turn per family: the OCSP responder answers between them.
          await this.nextTurn();
          const r = await reading;
          gauge.reset();
          fill(r, (labels, v) => gauge.set(labels, v));
        },
      });
    };
    const perCert = (
      name: string,
      help: string,
      value: (s: CertificateStatus) => number | null,
      extra: readonly string[] = [],
      labels?: (r: Row) => Record<string, string>,
    ): void =>
      family(name, help, ['cert', ...extra], (r, set) => {
        for (const row of r.labelled) {
          const v = value(row.s);
          if (v !== null) set({ cert: row.cert, ...labels?.(row) }, v);
        }
      });
    const seconds = (t: number | null): number | null => (t === null ? null : t / 1000);
    new Gauge({ name: 'stapler_build_info', help: 'Stapler and Node versions (always 1).', labelNames: ['version', 'node'], registers }).set(
      { version: options.version ?? packageVersion(), node: process.versions.node },
      1,
    );
    family('stapler_certificates', 'Certificates by stapling state.', ['state'], (r, set) => {
      for (const [state, n] of r.byState) set({ state }, n);
    });
    family(
      'stapler_certificates_by_verdict',
      'Certificates by verdict: OK, WARNING, CRITICAL (the verdict of /healthz and `stapler status`).',
      ['verdict'],
      (r, set) => {
        for (const [verdict, n] of Object.entries(r.byVerdict)) set({ verdict }, n);
      },
    );
    family('stapler_certificates_by_responder', 'Certificates by the host of their first OCSP responder, and state.', ['responder', 'state'], (r, set) => {
      for (const [key, n] of r.byResponder) {
        const [responder, state] = key.split('\u0000') as [string, string];
        set({ responder, state }, n);
      }
    });
    family(
      'stapler_certificates_at_risk',
      'Certificates whose staple may lapse before it is replaced, and Must-Staple certificates without one.',
      [],
      (r, set) => set({}, r.atRisk),
    );
    family(
      'stapler_outputs_failing',
      'Outputs (staple files, includes, HAProxy pushes, reloads) whose last write failed, by kind (the daemon).',
      ['kind'],
      (r, set) => {
        for (const [kind, n] of r.outputsFailing) set({ kind }, n);
      },
    );
    family('stapler_staple_soonest_valid_until_timestamp_seconds', 'The earliest end of a staple being served.', [], (r, set) => {
      if (r.soonestValidUntil !== null) set({}, r.soonestValidUntil / 1000);
    });
    family(
      'stapler_certificate_series',
      'Certificates with series of their own, by why (problem, soonest, all), and those with a problem left out (omitted).',
      ['why'],
      (r, set) => {
        for (const [why, n] of Object.entries(r.exported)) set({ why }, n);
      },
    );
    perCert(
      'stapler_certificate_info',
      'A managed certificate (always 1).',
      () => 1,
      ['subject', 'serial', 'responder', 'must_staple'],
      ({ s }) => ({
        subject: s.subject,
        serial: s.serial,
        responder: responderHost(s.responders[0]),
        must_staple: String(s.mustStaple),
      }),
    );
    perCert(
      'stapler_certificate_verdict',
      "The certificate's verdict (1; only its current verdict is exported).",
      () => 1,
      ['verdict'],
      ({ s }) => ({ verdict: s.verdict }),
    );
    perCert(
      'stapler_certificate_state',
      "The certificate's stapling state (1; only its current state is exported).",
      () => 1,
      ['state'],
      ({ s }) => ({ state: s.state }),
    );
    perCert('stapler_certificate_revoked', '1 when the staple being served says the certificate is revoked, else 0.', (s) =>
      s.certStatus === null ? null : s.certStatus === 'revoked' ? 1 : 0,
    );
    perCert('stapler_certificate_not_after_timestamp_seconds', "The certificate's notAfter.", (s) => s.notAfter / 1000);
    perCert('stapler_staple_this_update_timestamp_seconds', "The staple's thisUpdate.", (s) => seconds(s.thisUpdate));
    perCert('stapler_staple_next_update_timestamp_seconds', "The staple's nextUpdate.", (s) => seconds(s.nextUpdate));
    perCert('stapler_staple_valid_until_timestamp_seconds', 'When the staple stops being served (nextUpdate, or the lifetime given to one without).', (s) =>
      seconds(s.validUntil),
    );
    perCert('stapler_next_refresh_timestamp_seconds', 'When the next refresh is planned.', (s) => seconds(s.nextRefreshAt));
    perCert('stapler_refresh_consecutive_failures', 'Refreshes that failed in a row (0 after a success).', (s) => s.consecutiveFailures);
    perCert('stapler_must_staple_at_risk', 'For Must-Staple certificates: 1 when it has no staple, or its staple lapses before the next retry.', (s) =>
      s.mustStaple ? (mustStapleAtRisk(s) ? 1 : 0) : null,
    );
    this.refreshes = new Counter({
      name: 'stapler_refreshes_total',
      help: 'Refresh results: success (a new response fetched), store (taken from the store), failure.',
      labelNames: ['result'],
      registers,
    });
    for (const result of ['success', 'store', 'failure']) this.refreshes.inc({ result }, 0);
    this.failures = new Counter({ name: 'stapler_refresh_failures_total', help: 'Failed refreshes, by reason.', labelNames: ['reason'], registers });
    for (const reason of FAILURE_REASONS) this.failures.inc({ reason }, 0);
    this.fetchDuration = new Histogram({
      name: 'stapler_fetch_duration_seconds',
      help: 'Time to get an answer (or give up) from the OCSP responders, by the responder host.',
      labelNames: ['responder'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15],
      registers,
    });
    this.storeErrors = new Counter({
      name: 'stapler_store_errors_total',
      help: 'Store operations that failed, by operation.',
      labelNames: ['operation'],
      registers,
    });
    this.leaseContention = new Counter({
      name: 'stapler_store_lease_contention_total',
      help: 'Refresh leases another process held (it fetches; this one waits for its result).',
      registers,
    });
    this.responderRequests = new Counter({
      name: 'stapler_ocsp_responder_requests_total',
      help: "Requests to the daemon's OCSP responder, by result.",
      labelNames: ['result'],
      registers,
    });
    this.responderDuration = new Histogram({
      name: 'stapler_ocsp_responder_duration_seconds',
      help: "Time the daemon's OCSP responder took to answer.",
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1],
      registers,
    });
  }

  /** An observer for the daemon's OCSP responder route: counts each request by result (all `results` start at 0). */
  responderObserver(results: readonly string[]): (result: string, ms: number) => void {
    for (const result of results) this.responderRequests.inc({ result }, 0);
    return (result, ms) => {
      this.responderRequests.inc({ result });
      this.responderDuration.observe(ms / 1000);
    };
  }

  /**
   * Count this engine's refreshes and export its certificates (an engine lives as long as its
   * process: a SIGHUP reconfigures the daemon's in place). `handshakes` reads the library's
   * handshake counts.
   */
  observe(engine: StaplingEngine, handshakes?: () => HandshakeCounts): this {
    this.engine = engine;
    if (handshakes) this.countHandshakes(handshakes);
    engine.on('updated', (s) => this.refreshes.inc({ result: s.source === 'store' ? 'store' : 'success' }));
    engine.on('refreshFailed', (s) => {
      this.refreshes.inc({ result: 'failure' });
      this.failures.inc({ reason: s.lastError?.reason ?? 'internal' });
    });
    return this;
  }

  /**
   * Export stapler_handshakes_total from `read` (the library's counts). Registered only here: the
   * daemon sees no handshakes, and a counter stuck at 0 there would say it stapled none.
   */
  countHandshakes(read: () => HandshakeCounts): this {
    if (!this.handshakes) {
      const { Counter } = requireOptional<typeof PromClient>('prom-client', 'StaplerMetrics');
      const handshakes: Counter<'outcome'> = new Counter({
        name: 'stapler_handshakes_total',
        help: 'TLS handshakes that asked for a staple, by outcome (stapled, unstapled). Library only.',
        labelNames: ['outcome'],
        registers: [this.registry],
        collect: () => {
          handshakes.reset();
          const h = this.handshakes?.() ?? { stapled: 0, unstapled: 0 };
          handshakes.inc({ outcome: 'stapled' }, h.stapled);
          handshakes.inc({ outcome: 'unstapled' }, h.unstapled);
        },
      });
    }
    this.handshakes = read;
    return this;
  }

  /** A fetcher that times each fetch into stapler_fetch_duration_seconds. */
  instrumentFetcher(fetcher: StapleFetcher): StapleFetcher {
    return new InstrumentedFetcher(fetcher, this.fetchRecorder());
  }

  /** Records one fetch's duration into stapler_fetch_duration_seconds (for a fetcher timed elsewhere). */
  fetchRecorder(): (responderHost: string, seconds: number) => void {
    return (host, seconds) => this.fetchDuration.observe({ responder: host }, seconds);
  }

  /** A store that counts its failures and its lease contention. */
  instrumentStore(store: StapleStore): StapleStore {
    return new InstrumentedStore(store, {
      error: (operation) => this.storeErrors.inc({ operation }),
      contended: () => this.leaseContention.inc(),
    });
  }

  /** The metrics in Prometheus' text format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** One reading of the engine per scrape, shared by every family's collect. */
  private async read(): Promise<Reading> {
    const statuses = this.engine?.statuses() ?? [];
    const outputs = this.outputsOf?.();
    const judged = outputs ? mapIterable(statuses, (s) => withOutputs(s, outputs(s), Date.now())) : statuses;
    const snap = await readSnapshot(judged, this.series);
    const label = this.certLabels();
    return { ...snap, labelled: snap.rows.map((s) => ({ s, cert: label(s) })) };
  }

  /** Resolves after the previous family's turn and one more event-loop turn (setImmediate). */
  private nextTurn(): Promise<void> {
    const turn = this.turn.then(() => new Promise<void>((resolve) => setImmediate(resolve)));
    this.turn = turn;
    return turn;
  }
}

function* mapIterable<A, B>(items: Iterable<A>, f: (a: A) => B): IterableIterator<B> {
  for (const a of items) yield f(a);
}

const emptyReading: Reading = {
  byState: new Map(),
  byVerdict: { CRITICAL: 0, WARNING: 0, OK: 0 },
  byResponder: new Map(),
  atRisk: 0,
  outputsFailing: new Map(),
  soonestValidUntil: null,
  rows: [],
  exported: { problem: 0, soonest: 0, all: 0, omitted: 0 },
  labelled: [],
};
