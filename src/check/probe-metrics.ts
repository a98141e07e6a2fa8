// A probe's result as Prometheus text, following blackbox_exporter's conventions (probe_success,
// probe_duration_seconds, one probe per scrape) with stapling gauges of its own. The one
// rendering of the one judgement: the daemon's /probe, its configured targets in /metrics, and
// `stapler check --format prometheus` all print this.

import type { ProbeError, ProbeFailure, ProbeResult } from './probe.ts';

/** Every metric a probe emits, with its help text (the order of the exposition). */
export const PROBE_METRICS = {
  probe_success: 'Whether the server stapled a valid response that says good (what `stapler check` exits 0 for).',
  probe_duration_seconds: 'How long the probe took: resolving, connecting, the TLS handshake and the judgement.',
  probe_tls_handshake_duration_seconds: 'The TLS handshake, from connect to its end.',
  probe_ocsp_stapled: 'Whether the server sent an OCSP response in the handshake.',
  probe_ocsp_verdict: '1 for the verdict on the staple (valid, invalid, unverifiable, missing, error) with its reason.',
  probe_ocsp_cert_status: "The verified staple's certificate status: 1 for good or revoked.",
  probe_ocsp_next_update_seconds: "Seconds until the staple's nextUpdate (negative once past), as read from the staple.",
  probe_ocsp_this_update_age_seconds: "Seconds since the staple's thisUpdate, as read from the staple.",
  probe_ocsp_must_staple: 'Whether the certificate carries the TLS Feature status_request (Must-Staple).',
} as const;
export type ProbeMetricName = keyof typeof PROBE_METRICS;

/** The verdict label's values. */
export const PROBE_VERDICTS = ['valid', 'invalid', 'unverifiable', 'missing', 'error'] as const;
export type ProbeVerdict = (typeof PROBE_VERDICTS)[number];

export interface ProbeSample {
  readonly name: ProbeMetricName;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A probe that ended: a result, or the error that stopped it (connection, TLS, timeout). */
export type ProbeOutcome = { readonly result: ProbeResult; readonly durationMs: number } | { readonly error: ProbeError; readonly durationMs: number };

/** The verdict on the staple and its reason: a reject reason, the certificate status, or why there is none. */
export function probeVerdict(outcome: ProbeOutcome): { verdict: ProbeVerdict; reason: string } {
  if ('error' in outcome) return { verdict: 'error', reason: outcome.error.kind satisfies ProbeFailure };
  const r = outcome.result;
  if (r.staple?.ok) return { verdict: 'valid', reason: r.staple.certStatus };
  if (r.staple) return { verdict: 'invalid', reason: r.staple.reason };
  if (r.stapleProblem) return { verdict: 'unverifiable', reason: 'issuer-not-presented' };
  return { verdict: 'missing', reason: r.noResponder ? 'no-responder' : 'no-staple' };
}

/** The samples of one probe, judged at `now`. */
export function probeSamples(outcome: ProbeOutcome, now: number): ProbeSample[] {
  const s = (name: ProbeMetricName, value: number, labels: Record<string, string> = {}): ProbeSample => ({ name, labels, value });
  const ok = 'result' in outcome && outcome.result.ok;
  const samples = [s('probe_success', ok ? 1 : 0), s('probe_duration_seconds', seconds(outcome.durationMs)), s('probe_ocsp_verdict', 1, probeVerdict(outcome))];
  if ('error' in outcome) return samples;
  const r = outcome.result;
  samples.push(s('probe_tls_handshake_duration_seconds', seconds(r.handshakeMs)));
  samples.push(s('probe_ocsp_stapled', r.staple || r.stapleProblem ? 1 : 0));
  samples.push(s('probe_ocsp_must_staple', r.certificate.mustStaple ? 1 : 0));
  const v = r.staple;
  if (v?.ok) for (const status of ['good', 'revoked'] as const) samples.push(s('probe_ocsp_cert_status', v.certStatus === status ? 1 : 0, { status }));
  if (v?.nextUpdate != null) samples.push(s('probe_ocsp_next_update_seconds', seconds(v.nextUpdate - now)));
  if (v?.thisUpdate != null) samples.push(s('probe_ocsp_this_update_age_seconds', seconds(now - v.thisUpdate)));
  return samples;
}

const seconds = (ms: number): number => Math.round(ms) / 1000;

const escape = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/**
 * Prometheus text (format 0.0.4) for probes: each family once, with its help and type, holding
 * every probe's samples with that probe's own labels (the daemon's targets: `target`, `servername`).
 */
export function renderProbeText(probes: readonly { readonly labels?: Readonly<Record<string, string>>; readonly samples: readonly ProbeSample[] }[]): string {
  const lines: string[] = [];
  for (const name of Object.keys(PROBE_METRICS) as ProbeMetricName[]) {
    const rows = probes.flatMap((p) => p.samples.filter((x) => x.name === name).map((x) => ({ ...x, labels: { ...p.labels, ...x.labels } })));
    if (rows.length === 0) continue;
    lines.push(`# HELP ${name} ${PROBE_METRICS[name]}`, `# TYPE ${name} gauge`);
    for (const row of rows) {
      const labels = Object.entries(row.labels).map(([k, v]) => `${k}="${escape(v)}"`);
      lines.push(`${name}${labels.length > 0 ? `{${labels.join(',')}}` : ''} ${row.value}`);
    }
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}
