// The probe's allow-list: an open probe is a server-side request forgery tool, so a target is
// probed only when its port, its host and every address its name resolves to are allowed. The
// name is resolved once here and the probe connects to that address (no second lookup, so no
// DNS rebinding between the check and the connection). Each refusal names its rule.

import { inCidr, parseIp, SPECIAL_RANGES, type Cidr, type Ip } from './ip-ranges.ts';
import { ProbeError, type ProbeTarget } from './probe.ts';

export interface ProbeAllowRules {
  /** Host names: exact ("www.example.com"), a suffix ("*.example.com": names below it), or "*" (any name; its addresses still decide). */
  readonly hosts: readonly string[];
  /** Where a target may be: every address it resolves to (or its literal address) must lie in one. */
  readonly cidrs: readonly Cidr[];
  readonly ports: readonly number[];
}

/** The rules a refusal can name. */
export type ProbeRule = 'query' | 'target' | 'servername' | 'ports' | 'ip-spelling' | 'hosts' | 'cidrs' | 'special-address' | 'resolve';

export class ProbeRefused extends Error {
  override readonly name = 'ProbeRefused';
  constructor(
    readonly rule: ProbeRule,
    message: string,
  ) {
    super(message);
  }
}

/** The address to connect to, and the name (for SNI and the certificate check) when the target is a name. */
export interface AdmittedTarget {
  readonly address: string;
  readonly name: string | null;
}

/** Resolves a name to its addresses (all of them). */
export type Lookup = (name: string) => Promise<readonly string[]>;

const DNS_NAME = /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/i;
/** What the C resolver (inet_aton) reads as an IPv4 address: 127.1, 0x7f.0.0.1, 2130706433, 0177.0.0.1. */
const NUMERIC_HOST = /^((0x[0-9a-f]*|\d+)\.){0,3}(0x[0-9a-f]*|\d+)$/i;

/** A host name as written in a target or a servername: a DNS name, never an IP address in another spelling. */
export function hostNameProblem(name: string): string | null {
  if (NUMERIC_HOST.test(name) || /\.\d+$/.test(name))
    return `"${name}" is an IP address in a non-canonical spelling: give it in dotted decimal (e.g. 192.0.2.1) or [IPv6]`;
  if (!DNS_NAME.test(name)) return `"${name.slice(0, 80)}" is not a host name`;
  return null;
}

export function hostMatches(pattern: string, name: string): boolean {
  const p = pattern.toLowerCase().replace(/\.$/, '');
  const n = name.toLowerCase().replace(/\.$/, '');
  if (p === '*') return true;
  if (p.startsWith('*.')) return n.endsWith(p.slice(1)) && n.length > p.length - 1;
  return p === n;
}

/** Why the address may not be probed, or null. */
export function addressProblem(ip: Ip, rules: ProbeAllowRules): { rule: ProbeRule; message: string } | null {
  const within = rules.cidrs.filter((c) => inCidr(ip, c));
  if (within.length === 0)
    return { rule: 'cidrs', message: `address ${ip.text} is in no range of probe.allow.cidrs (${list(rules.cidrs.map((c) => c.text))})` };
  for (const s of SPECIAL_RANGES) {
    if (!inCidr(ip, s.cidr)) continue;
    // A range as narrow as the special one (or narrower) names it on purpose; 0.0.0.0/0 does not.
    if (!within.some((c) => c.prefix >= s.cidr.prefix))
      return {
        rule: 'special-address',
        message: `address ${ip.text} is ${s.what} (${s.cidr.text}): probed only when probe.allow.cidrs names a range inside ${s.cidr.text}, not a wider one`,
      };
  }
  return null;
}

/** Admit a target, or throw ProbeRefused naming the rule. Resolves a name once (bounded by the caller's deadline). */
export async function admitTarget(target: ProbeTarget, rules: ProbeAllowRules, lookup: Lookup): Promise<AdmittedTarget> {
  if (!rules.ports.includes(target.port)) throw new ProbeRefused('ports', `port ${target.port} is not in probe.allow.ports (${list(rules.ports.map(String))})`);
  const literal = parseIp(target.host);
  if (literal) {
    const why = addressProblem(literal, rules);
    if (why) throw new ProbeRefused(why.rule, why.message);
    return { address: literal.text, name: null };
  }
  if (target.host.includes(':') || target.host.includes('%'))
    throw new ProbeRefused('ip-spelling', `"${target.host.slice(0, 80)}" is not a canonical IP address (no zone index, no other spelling)`);
  const problem = hostNameProblem(target.host);
  if (problem) throw new ProbeRefused(problem.includes('non-canonical') ? 'ip-spelling' : 'target', problem);
  if (!rules.hosts.some((p) => hostMatches(p, target.host)))
    throw new ProbeRefused('hosts', `host "${target.host}" matches no entry of probe.allow.hosts (${list(rules.hosts)})`);
  let addresses: readonly string[];
  try {
    addresses = await lookup(target.host);
  } catch (err) {
    // A failed lookup is the probe's failure (probe_success 0), not a refusal.
    throw new ProbeError(`host "${target.host}" does not resolve: ${err instanceof Error ? err.message : String(err)}`, 'dns');
  }
  if (addresses.length === 0) throw new ProbeError(`host "${target.host}" resolves to no address`, 'dns');
  // Every address must be allowed: a name that also resolves to loopback is refused, whichever address would be used.
  for (const a of addresses) {
    const ip = parseIp(a);
    if (!ip) throw new ProbeRefused('resolve', `host "${target.host}" resolves to "${a}", which is not an IP address`);
    const why = addressProblem(ip, rules);
    if (why) throw new ProbeRefused(why.rule, `host "${target.host}" resolves to ${why.message.replace(/^address /, '')}`);
  }
  return { address: parseIp(addresses[0]!)!.text, name: target.host };
}

function list(items: readonly string[]): string {
  if (items.length === 0) return 'none';
  return items.length > 8 ? `${items.slice(0, 8).join(', ')}, …` : items.join(', ');
}
