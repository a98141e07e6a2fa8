// GET /probe?target=host:port&servername=name: one stapling probe, answered in Prometheus text
// as blackbox_exporter answers (a failed probe is a 200 with probe_success 0). Off unless
// probe.allow is configured; a refusal is a 4xx whose first line names the rule that refused.

import type { ServerResponse } from 'node:http';
import { ProbeRefused } from '../../check/probe-allow.ts';
import { probeSamples, renderProbeText } from '../../check/probe-metrics.ts';
import { parseTarget } from '../../check/probe.ts';
import type { ProbeConfig } from '../probe-config.ts';
import type { ProbeService } from '../probe-service.ts';
import { plain } from './listener.ts';
import type { HttpRoute } from './route.ts';

/** The request target's length (path and query): a real probe URL is far shorter. */
export const PROBE_URL_LIMIT = 1024;
/** The query parameters /probe takes (`module` is blackbox's, sent by shared relabel configs: ignored). */
const PARAMETERS = ['target', 'servername', 'module'];

function refuse(res: ServerResponse, status: number, rule: string, why: string, headers: Record<string, string> = {}): void {
  plain(res, status, `refused by rule ${rule}: ${why}\n`, { 'Cache-Control': 'no-store', 'X-Stapler-Probe-Refused': rule, ...headers });
}

export function probeRoute(service: ProbeService, settings: () => ProbeConfig | null, now: () => number): HttpRoute {
  return {
    name: 'probe',
    paths: ['/probe'],
    methods: ['GET'],
    handle: async (req, res) => {
      const url = req.url ?? '/probe';
      if (url.length > PROBE_URL_LIMIT) return refuse(res, 414, 'query', `the request target is ${url.length} bytes, over the ${PROBE_URL_LIMIT}-byte limit`);
      const config = settings();
      if (!config?.allow) return refuse(res, 404, 'off', 'probing is off: set probe.allow in the daemon configuration (docs/observability.md)');
      const query = new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '');
      const seen = new Set<string>();
      for (const key of query.keys()) {
        if (!PARAMETERS.includes(key)) return refuse(res, 400, 'query', `unknown parameter "${key.slice(0, 40)}" (known: ${PARAMETERS.join(', ')})`);
        if (seen.has(key)) return refuse(res, 400, 'query', `"${key}" is given twice`);
        seen.add(key);
      }
      const target = query.get('target');
      if (!target) return refuse(res, 400, 'query', 'target=host:port is required');
      try {
        parseTarget(target);
      } catch (err) {
        return refuse(res, 400, 'target', (err as Error).message);
      }
      const running = service.tryProbe(target, query.get('servername') ?? undefined, config.allow);
      if (!running)
        return refuse(res, 429, 'concurrency', `${config.concurrency} probe(s) are running, the most probe.concurrency allows`, { 'Retry-After': '1' });
      let outcome;
      try {
        outcome = await running;
      } catch (err) {
        if (err instanceof ProbeRefused) return refuse(res, 403, err.rule, err.message);
        throw err;
      }
      const body = renderProbeText([{ samples: probeSamples(outcome, now()) }]);
      res.writeHead(200, {
        'Content-Type': 'text/plain; version=0.0.4; charset=utf-8',
        'Content-Length': Buffer.byteLength(body),
        'Cache-Control': 'no-store',
      });
      res.end(body);
    },
  };
}
