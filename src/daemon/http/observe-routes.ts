// The routes that let operators see the daemon: /metrics (Prometheus), /healthz, /status.json
// and /status (a page for people). Each reads the daemon when it answers: a SIGHUP may have
// replaced the engine since the last request.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CertificateStatus } from '../../engine/types.ts';
import { judgeHealth, subjectSerial } from '../../metrics/certificate-risk.ts';
import type { StaplerMetrics } from '../../metrics/metrics.ts';
import type { Daemon } from '../daemon.ts';
import type { OcspRoute } from './ocsp-route.ts';
import type { HttpRoute } from './route.ts';
import { renderStatusPage, type StatusRow } from './status-page.ts';

const key = (subject: string | null, serial: string | null): string => `${subject ?? ''}\u0000${serial ?? ''}`;

/** The `cert` label in the daemon: the first file that holds the certificate (else subject and serial). */
export function fileLabels(daemon: Daemon): (s: CertificateStatus) => string {
  const files = new Map<string, string>();
  for (const f of daemon.state().files) if (f.subject !== null && !files.has(key(f.subject, f.serial))) files.set(key(f.subject, f.serial), f.file);
  return (s) => files.get(key(s.subject, s.serial)) ?? subjectSerial(s);
}

/** One row per certificate file, with the engine's numbers for it; files that cannot be used too. */
export function statusRows(daemon: Daemon): StatusRow[] {
  const statuses = new Map(daemon.engine.status().map((s) => [key(s.subject, s.serial), s]));
  return daemon.state().files.map((f) => {
    const s = f.subject === null ? undefined : statuses.get(key(f.subject, f.serial));
    return {
      file: f.file,
      subject: f.subject,
      serial: f.serial,
      state: f.state,
      certStatus: f.certStatus,
      mustStaple: f.mustStaple,
      thisUpdate: s?.thisUpdate ?? null,
      nextUpdate: s?.nextUpdate ?? null,
      validUntil: s?.validUntil ?? null,
      nextRefreshAt: s?.nextRefreshAt ?? null,
      lastError: f.lastError,
      failures: s?.consecutiveFailures ?? 0,
    };
  });
}

/** Send `body` (or only its headers, for HEAD). */
function send(req: IncomingMessage, res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : body);
}

export interface ObserveRouteOptions {
  readonly now?: () => number;
  /** Seconds between reloads of /status (default 30). */
  readonly pageRefreshSeconds?: number;
  /** The OCSP responder route, whose counts and unmanaged CertIDs /status.json and /status show. */
  readonly ocsp?: OcspRoute;
}

/** Unmanaged CertIDs listed on /status (all of them, up to 1,024, are in /status.json). */
const PAGE_UNKNOWN_ROWS = 20;

/** The OCSP responder's counts by result, and the unmanaged CertIDs asked about (bounded by the route). */
export function responderSummary(ocsp: OcspRoute): { counts: Record<string, number>; unmanaged: object[]; unmanagedUntracked: number } {
  return { counts: { ...ocsp.counts }, unmanaged: ocsp.unknown.list().map((u) => ({ ...u })), unmanagedUntracked: ocsp.unknown.untracked };
}

function responderFacts(ocsp: OcspRoute): string[] {
  const counts = Object.entries(ocsp.counts)
    .map(([r, n]) => `${r} ${n}`)
    .join(', ');
  const unknown = ocsp.unknown.list();
  const facts = [`OCSP responder requests: ${counts}`];
  if (unknown.length > 0) facts.push(`unmanaged CertIDs asked about: ${unknown.length + (ocsp.unknown.untracked > 0 ? '+' : '')}`);
  for (const u of unknown.slice(0, PAGE_UNKNOWN_ROWS))
    facts.push(`unmanaged: ${u.hash} issuer name hash ${u.issuerNameHash}, issuer key hash ${u.issuerKeyHash}, serial ${u.serial}: ${u.count} request(s)`);
  return facts;
}

export function observeRoutes(daemon: Daemon, metrics: StaplerMetrics, opts: ObserveRouteOptions = {}): HttpRoute[] {
  const now = opts.now ?? Date.now;
  const methods = ['GET', 'HEAD'];
  return [
    {
      name: 'metrics',
      paths: ['/metrics'],
      methods,
      handle: async (req, res) => send(req, res, 200, metrics.registry.contentType, await metrics.text()),
    },
    {
      name: 'healthz',
      paths: ['/healthz'],
      methods,
      handle: (req, res) => {
        const health = judgeHealth(daemon.engine.status(), now(), fileLabels(daemon));
        // A failed output (a staple file that cannot be written, say) is a problem too, naming the file.
        const outputs = daemon
          .state()
          .files.flatMap((f) => f.outputs.filter((o) => !o.ok).map((o) => `${f.file}: cannot write its ${o.kind} ${o.target}: ${o.error ?? 'failed'}`));
        const problems = [...health.problems, ...outputs];
        const body = problems.length === 0 ? 'ok\n' : `unhealthy:\n${problems.map((p) => `- ${p}\n`).join('')}`;
        send(req, res, problems.length === 0 ? 200 : 503, 'text/plain; charset=utf-8', body);
      },
    },
    {
      name: 'status.json',
      paths: ['/status.json'],
      methods,
      handle: (req, res) => {
        const body = opts.ocsp ? { ...daemon.state(), ocspResponder: responderSummary(opts.ocsp) } : daemon.state();
        send(req, res, 200, 'application/json; charset=utf-8', `${JSON.stringify(body, null, 2)}\n`);
      },
    },
    {
      name: 'status',
      paths: ['/status', '/status/'],
      methods,
      handle: (req, res) => {
        const state = daemon.state();
        const facts = [
          `daemon pid ${state.pid}, started ${state.startedAt}`,
          `${state.certificates} certificate(s), ${state.unusable} unusable file(s)`,
          ...(opts.ocsp ? responderFacts(opts.ocsp) : []),
        ];
        const html = renderStatusPage({ title: 'Stapler', facts, rows: statusRows(daemon), refreshSeconds: opts.pageRefreshSeconds ?? 30 }, now());
        send(req, res, 200, 'text/html; charset=utf-8', html);
      },
    },
  ];
}
