// The `probe` section of the daemon's configuration: the allow-list that turns /probe on, the
// probes' bounds, the trust anchors, and the targets probed on an interval for /metrics.

import { X509Certificate } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import { parseCidr, type Cidr } from '../check/ip-ranges.ts';
import { hostNameProblem, type ProbeAllowRules } from '../check/probe-allow.ts';
import { parseTarget } from '../check/probe.ts';
import { describeValue } from '../engine/options.ts';
import { InputError } from '../ocsp/errors.ts';
import { readCertificates } from '../ocsp/pem.ts';
import { readSmallFile } from './store-config.ts';

export interface ProbeTargetConfig {
  /** "host:port", as in /probe?target= */
  readonly target: string;
  readonly servername: string | null;
}

export interface ProbeConfig {
  /** Who /probe may probe; null: /probe is off (the configured targets are still probed). */
  readonly allow: ProbeAllowRules | null;
  /** Resolving, connecting and the handshake, per probe. */
  readonly timeoutMs: number;
  /** Probes at once (requests and targets together); over it /probe answers 429. */
  readonly concurrency: number;
  /** Trust anchors (PEM) instead of Node's bundled CAs, read when the configuration is. */
  readonly caPem: string | null;
  readonly targets: readonly ProbeTargetConfig[];
  readonly intervalMs: number;
}

export const PROBE_LIMITS = { maxTargets: 100, maxAllowEntries: 1_000, caFileBytes: 1024 * 1024 } as const;
export const PROBE_DEFAULTS = { timeoutMs: 5_000, concurrency: 4, intervalMs: 60_000, ports: [443] } as const;

const KEYS = ['allow', 'timeoutMs', 'concurrency', 'ca', 'targets', 'intervalMs'];
const ALLOW_KEYS = ['hosts', 'cidrs', 'ports'];

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const asList = (v: unknown): unknown[] | null => (typeof v === 'string' || typeof v === 'number' ? [v] : Array.isArray(v) ? v : null);

/** Check `probe`; every problem goes to `errors`, named by key. Returns undefined when there was one. */
export function probeConfig(value: unknown, baseDir: string, errors: InputError[]): ProbeConfig | undefined {
  const before = errors.length;
  const bad = (key: string, v: unknown, why: string): void =>
    void errors.push(new InputError(`config key "probe.${key}"`, `${describeValue(v)} is not valid: ${why}`));
  if (!isMapping(value)) {
    errors.push(new InputError('config key "probe"', `${describeValue(value)} is not valid: expected a mapping`));
    return undefined;
  }
  for (const k of Object.keys(value)) if (!KEYS.includes(k)) bad(k, value[k], `not a known key (known here: ${KEYS.join(', ')})`);
  const num = (key: string, min: number, max: number, dflt: number): number => {
    const v = value[key];
    if (v === undefined || v === null) return dflt;
    if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) return v;
    bad(key, v, `expected a whole number from ${min} to ${max}`);
    return dflt;
  };
  const config: ProbeConfig = {
    allow: value.allow === undefined || value.allow === null ? null : allowRules(value.allow, bad),
    timeoutMs: num('timeoutMs', 100, 30_000, PROBE_DEFAULTS.timeoutMs),
    concurrency: num('concurrency', 1, 32, PROBE_DEFAULTS.concurrency),
    caPem: value.ca === undefined || value.ca === null ? null : readCa(value.ca, baseDir, bad),
    targets: value.targets === undefined || value.targets === null ? [] : targets(value.targets, bad),
    intervalMs: num('intervalMs', 10_000, 86_400_000, PROBE_DEFAULTS.intervalMs),
  };
  return errors.length > before ? undefined : config;
}

type Bad = (key: string, v: unknown, why: string) => void;

function allowRules(v: unknown, bad: Bad): ProbeAllowRules {
  const rules = { hosts: [] as string[], cidrs: [] as Cidr[], ports: [...PROBE_DEFAULTS.ports] as number[] };
  if (!isMapping(v)) return (bad('allow', v, 'expected a mapping of hosts, cidrs and ports'), rules);
  for (const k of Object.keys(v)) if (!ALLOW_KEYS.includes(k)) bad(`allow.${k}`, v[k], `not a known key (known here: ${ALLOW_KEYS.join(', ')})`);
  const items = (key: string): unknown[] => {
    if (v[key] === undefined || v[key] === null) return [];
    const l = asList(v[key]);
    if (!l || l.length > PROBE_LIMITS.maxAllowEntries)
      return (bad(`allow.${key}`, v[key], `expected a list of at most ${PROBE_LIMITS.maxAllowEntries} entries`), []);
    return l;
  };
  items('hosts').forEach((h, i) => {
    const name = typeof h === 'string' ? h.replace(/^\*\./, '') : '';
    if (h === '*' || (typeof h === 'string' && hostNameProblem(name) === null)) rules.hosts.push(h);
    else bad(`allow.hosts[${i}]`, h, 'expected a host name, "*.domain" or "*"');
  });
  items('cidrs').forEach((c, i) => {
    const cidr = typeof c === 'string' ? parseCidr(c) : 'expected "ADDRESS/PREFIX"';
    if (typeof cidr === 'string') bad(`allow.cidrs[${i}]`, c, cidr);
    else rules.cidrs.push(cidr);
  });
  if (v.ports !== undefined && v.ports !== null) {
    rules.ports = [];
    items('ports').forEach((p, i) => {
      if (typeof p === 'number' && Number.isInteger(p) && p >= 1 && p <= 65_535) rules.ports.push(p);
      else bad(`allow.ports[${i}]`, p, 'expected a port from 1 to 65535');
    });
  }
  if (rules.cidrs.length === 0)
    bad('allow.cidrs', v.cidrs, 'is required: the ranges a target may be in (its literal address, or every address its name resolves to)');
  return rules;
}

function targets(v: unknown, bad: Bad): ProbeTargetConfig[] {
  const l = asList(v);
  if (!l || l.length > PROBE_LIMITS.maxTargets) return (bad('targets', v, `expected a list of at most ${PROBE_LIMITS.maxTargets} targets`), []);
  const out: ProbeTargetConfig[] = [];
  l.forEach((t, i) => {
    const entry = typeof t === 'string' ? { target: t } : isMapping(t) ? t : null;
    const target = entry?.target;
    const servername = entry?.servername ?? null;
    try {
      if (typeof target !== 'string') throw new Error('expected "host:port" or { target: "host:port", servername: name }');
      parseTarget(target);
      if (servername !== null && (typeof servername !== 'string' || hostNameProblem(servername))) throw new Error('its servername is not a host name');
      if (entry && Object.keys(entry).some((k) => k !== 'target' && k !== 'servername')) throw new Error('only target and servername are known here');
      out.push({ target, servername });
    } catch (err) {
      bad(`targets[${i}]`, t, (err as Error).message);
    }
  });
  return out;
}

function readCa(v: unknown, baseDir: string, bad: Bad): string | null {
  if (typeof v !== 'string' || v.trim() === '') return (bad('ca', v, 'expected the path of a PEM file of CA certificates'), null);
  const path = isAbsolute(v) ? v : resolve(baseDir, v);
  try {
    const bytes = readSmallFile(path, PROBE_LIMITS.caFileBytes);
    const certs = readCertificates(bytes, path);
    if (certs.length === 0) throw new Error('holds no certificate');
    return certs.map((c) => new X509Certificate(c.der).toString()).join('');
  } catch (err) {
    bad('ca', v, (err as Error).message);
    return null;
  }
}
