// The routes that let operators see the daemon: /metrics (Prometheus), /healthz, /status.json
// and /status (a page for people). Each reads the daemon when it answers: a SIGHUP may have
// replaced the engine since the last request. /healthz, /status.json and /status read one
// snapshot of every file's state (state-snapshot.ts: at 100,000 files it is a second of work).

import type { IncomingMessage, ServerResponse } from 'node:http';
import { healthBody, judgeHealth } from '../../metrics/certificate-risk.ts';
import type { StaplerMetrics } from '../../metrics/metrics.ts';
import type { Daemon } from '../daemon.ts';
import type { FileState } from '../state.ts';
import type { OcspRoute } from './ocsp-route.ts';
import type { HttpRoute } from './route.ts';
import { sendStateJson } from './state-json.ts';
import { StateSnapshot } from './state-snapshot.ts';
import { renderStatusPage, type StatusRow } from './status-page.ts';
import { parseStatusQuery } from './status-query.ts';

const time = (t: string | null): number | null => (t === null ? null : Date.parse(t));

/** A card's row from a file's state (the same facts /status.json and `stapler status` read). */
export function statusRow(f: FileState): StatusRow {
  return {
    file: f.file,
    subject: f.subject,
    serial: f.serial,
    state: f.state,
    certStatus: f.certStatus,
    mustStaple: f.mustStaple,
    thisUpdate: time(f.thisUpdate),
    nextUpdate: time(f.nextUpdate),
    validUntil: time(f.validUntil),
    nextRefreshAt: time(f.nextRefreshAt),
    lastError: f.lastError,
    failures: f.failures,
    verdict: f.verdict,
    summary: f.summary,
    problems: f.problems,
  };
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
  /** More Prometheus text for /metrics (the configured probe targets' results). */
  readonly extraMetrics?: () => string;
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
  return facts;
}

function unmanagedLines(ocsp: OcspRoute): string[] {
  return ocsp.unknown
    .list()
    .slice(0, PAGE_UNKNOWN_ROWS)
    .map((u) => `${u.hash} issuer name hash ${u.issuerNameHash}, issuer key hash ${u.issuerKeyHash}, serial ${u.serial}: ${u.count} request(s)`);
}

export function observeRoutes(daemon: Daemon, metrics: StaplerMetrics, opts: ObserveRouteOptions = {}): HttpRoute[] {
  const now = opts.now ?? Date.now;
  const methods = ['GET', 'HEAD'];
  const snapshot = new StateSnapshot(daemon, now);
  return [
    {
      name: 'metrics',
      paths: ['/metrics'],
      methods,
      handle: async (req, res) => send(req, res, 200, metrics.registry.contentType, (await metrics.text()) + (opts.extraMetrics?.() ?? '')),
    },
    {
      name: 'healthz',
      paths: ['/healthz'],
      methods,
      handle: async (req, res) => {
        // The files' verdicts: the same facts as /status.json, /status and `stapler status`.
        const health = judgeHealth((await snapshot.get()).files, (f) => f.file);
        send(req, res, health.healthy ? 200 : 503, 'text/plain; charset=utf-8', healthBody(health));
      },
    },
    {
      name: 'status.json',
      paths: ['/status.json'],
      methods,
      handle: async (req, res) => sendStateJson(req, res, await snapshot.get(), opts.ocsp ? { ocspResponder: responderSummary(opts.ocsp) } : {}),
    },
    {
      name: 'status',
      paths: ['/status', '/status/'],
      methods,
      handle: async (req, res) => {
        const state = await snapshot.get();
        const query = parseStatusQuery(new URL(req.url ?? '/', 'http://status/').searchParams);
        const facts = [
          `daemon pid ${state.pid}, started ${state.startedAt}`,
          `${state.certificates} certificate(s), ${state.unusable} unusable file(s)`,
          ...(opts.ocsp ? responderFacts(opts.ocsp) : []),
        ];
        const page = {
          title: 'Stapler',
          facts,
          rows: state.files,
          toRow: statusRow,
          query,
          unmanaged: opts.ocsp ? unmanagedLines(opts.ocsp) : [],
          refreshSeconds: opts.pageRefreshSeconds ?? 30,
        };
        send(req, res, 200, 'text/html; charset=utf-8', renderStatusPage(page, now()));
      },
    },
  ];
}
