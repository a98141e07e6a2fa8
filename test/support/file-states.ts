// Synthetic file states, as the daemon builds them (src/daemon/state.ts), for the state file's
// tests and bench/state-file.ts: stapled and OK, or with a problem (a failing refresh, WARNING).

import type { DaemonCounters, FileState } from '../../src/daemon/state.ts';

const HOUR = 3_600_000;

export function syntheticFile(i: number, now: number, problem = false): FileState {
  const iso = (t: number): string => new Date(t).toISOString();
  const validUntil = now + 24 * HOUR + i * 1_000;
  return {
    file: `/etc/ssl/sites/site-${String(i).padStart(6, '0')}.example.com.pem`,
    stapleFile: `/etc/ssl/sites/site-${String(i).padStart(6, '0')}.example.com.pem.ocsp`,
    stapleWritten: true,
    subject: `CN=site-${i}.example.com`,
    serial: (0x1000000 + i).toString(16),
    state: problem ? 'stapled-refresh-failing' : 'stapled',
    certStatus: 'good',
    mustStaple: false,
    thisUpdate: iso(now - HOUR),
    nextUpdate: iso(validUntil),
    validUntil: iso(validUntil),
    nextRefreshAt: iso(now + 12 * HOUR),
    lastError: problem ? 'fetch-timeout: no answer from the responder' : null,
    failures: problem ? 3 : 0,
    verdict: problem ? 'WARNING' : 'OK',
    summary: problem ? 'refresh failing' : 'stapled',
    serving: true,
    atRisk: false,
    problems: problem ? ['its refresh is failing (stapled-refresh-failing: fetch-timeout: no answer from the responder)'] : [],
    outputs: [{ kind: 'staple-file', target: `/etc/ssl/sites/site-${i}.pem.ocsp`, ok: true, since: now - HOUR, error: null }],
  };
}

export function syntheticCounters(now: number, certificates: number, pid = process.pid): DaemonCounters {
  const iso = new Date(now).toISOString();
  return { pid, startedAt: iso, updatedAt: iso, certificates, unusable: 0, reloads: 0, reloadFailures: 0, configReloads: 0, configReloadsRefused: 0 };
}
