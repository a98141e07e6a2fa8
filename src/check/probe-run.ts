// One bounded probe: admit the target (the allow-list, or none for a target the operator
// configured), resolve its name once, and probe that address, all within one deadline. What the
// daemon's /probe and its configured targets run.

import { lookup as dnsLookup } from 'node:dns/promises';
import { admitTarget, hostNameProblem, ProbeRefused, type Lookup, type ProbeAllowRules } from './probe-allow.ts';
import type { ProbeOutcome } from './probe-metrics.ts';
import { parseIp } from './ip-ranges.ts';
import { probe, ProbeError, type ProbeTarget } from './probe.ts';

/** The system resolver: every address, in its order. */
export const systemLookup: Lookup = async (name) => (await dnsLookup(name, { all: true, verbatim: true })).map((a) => a.address);

export interface RunProbeOptions {
  /** The allow-list for a target from a request; null for one from the configuration. */
  readonly rules: ProbeAllowRules | null;
  readonly lookup: Lookup;
  readonly ca?: Buffer | undefined;
  /** Resolving, connecting and the handshake together. */
  readonly timeoutMs: number;
  readonly now: () => number;
}

/** Probe, or throw ProbeRefused naming the rule. A failure to resolve, connect or shake hands is an outcome, not a throw. */
export async function runProbe(target: ProbeTarget, servername: string | undefined, opts: RunProbeOptions): Promise<ProbeOutcome> {
  const started = performance.now();
  if (servername !== undefined) {
    const problem = hostNameProblem(servername);
    if (problem) throw new ProbeRefused('servername', `servername: ${problem}`);
  }
  try {
    const admitted = await withDeadline(admit(target, opts), opts.timeoutMs, target);
    const left = Math.max(1, opts.timeoutMs - (performance.now() - started));
    const result = await probe(target, {
      servername: servername ?? admitted.name ?? undefined,
      ca: opts.ca,
      timeoutMs: left,
      now: opts.now,
      address: admitted.address,
    });
    return { result, durationMs: performance.now() - started };
  } catch (err) {
    if (err instanceof ProbeError) return { error: err, durationMs: performance.now() - started };
    throw err;
  }
}

async function admit(target: ProbeTarget, opts: RunProbeOptions): Promise<{ address: string; name: string | null }> {
  if (opts.rules) return admitTarget(target, opts.rules, opts.lookup);
  const literal = parseIp(target.host);
  if (literal) return { address: literal.text, name: null };
  let addresses: readonly string[];
  try {
    addresses = await opts.lookup(target.host);
  } catch (err) {
    throw new ProbeError(`host "${target.host}" does not resolve: ${err instanceof Error ? err.message : String(err)}`, 'dns');
  }
  const first = addresses[0] === undefined ? null : parseIp(addresses[0]);
  if (!first) throw new ProbeError(`host "${target.host}" resolves to no usable address`, 'dns');
  return { address: first.text, name: target.host };
}

function withDeadline<T>(p: Promise<T>, ms: number, target: ProbeTarget): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new ProbeError(`${target.host}:${target.port}: not resolved within ${ms} ms`, 'timeout')), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}
