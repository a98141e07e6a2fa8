// The engine's options as one declarative table: key, type, bounds, default and doc. The
// library's `validateOptions` and the daemon's configuration both check against it, so that
// the two accept exactly the same values and word their errors the same way.

import { responderUrlProblem } from '../fetch/url.ts';
import { InputError } from '../ocsp/errors.ts';
import { MAX_RESPONSE_BYTES_LIMIT } from '../ocsp/response.ts';
import type { VerifySettings } from '../ocsp/verify.ts';
import type { EngineSettings } from './types.ts';

const DAY_MS = 86_400_000;
const MS = { type: 'number', min: 1, max: 30 * DAY_MS } as const;

export type OptionType =
  | { readonly type: 'number' | 'integer'; readonly min: number; readonly max: number; readonly minExclusive?: boolean; readonly maxExclusive?: boolean }
  | { readonly type: 'boolean' }
  | { readonly type: 'enum'; readonly values: readonly string[] }
  /** A list of responder URLs (http: or https:). */
  | { readonly type: 'urls' }
  /** A mapping from an issuer (subject or SHA-256 fingerprint) to a list of responder URLs. */
  | { readonly type: 'urlsByKey' }
  /** A plain-HTTP proxy URL. */
  | { readonly type: 'proxy' };

export type OptionSpec = OptionType & {
  /** The option's name; "refresh.x" is the key x of the `refresh` object. */
  readonly key: string;
  /** The engine's default, for documentation (undefined: none). */
  readonly default: number | string | boolean | undefined;
  readonly doc: string;
};

export const OPTION_SCHEMA: readonly OptionSpec[] = [
  { key: 'timeoutMs', ...MS, default: 5_000, doc: 'per-responder request timeout' },
  { key: 'deadlineMs', ...MS, default: 15_000, doc: "deadline for one refresh across all of a certificate's responders" },
  { key: 'responderUrls', type: 'urls', default: undefined, doc: "ask these responders instead of the certificates' AIA URLs" },
  { key: 'responderUrlsByIssuer', type: 'urlsByKey', default: undefined, doc: 'per-issuer responder override (issuer subject or SHA-256 fingerprint)' },
  { key: 'proxy', type: 'proxy', default: undefined, doc: 'plain-HTTP proxy for responder requests' },
  {
    key: 'refresh.refreshFraction',
    type: 'number',
    min: 0,
    max: 1,
    minExclusive: true,
    maxExclusive: true,
    default: 0.5,
    doc: 'refresh this far into the validity window',
  },
  { key: 'refresh.minIntervalMs', ...MS, default: 300_000, doc: 'never refresh sooner than this after a fetch, unless the staple would expire first' },
  {
    key: 'refresh.jitterFraction',
    type: 'number',
    min: 0,
    max: 0.5,
    maxExclusive: true,
    default: 0.05,
    doc: 'refreshes move earlier by up to this fraction of the window',
  },
  { key: 'refresh.backoffInitialMs', ...MS, default: 60_000, doc: 'first retry delay after a failure (doubles each time)' },
  { key: 'refresh.backoffMaxMs', ...MS, default: 3_600_000, doc: 'longest retry delay' },
  {
    key: 'refresh.backoffJitter',
    type: 'number',
    min: 0,
    max: 1,
    maxExclusive: true,
    default: 0.2,
    doc: '± this fraction of random spread on each retry delay',
  },
  { key: 'refresh.triesBeforeExpiry', type: 'integer', min: 1, max: 100, default: 4, doc: 'near expiry, the retry delay is at most (time left) / this' },
  { key: 'refresh.floorMs', ...MS, default: 10_000, doc: 'no two fetches for one certificate closer than this' },
  {
    key: 'refresh.overdueSpreadMs',
    type: 'number',
    min: 0,
    max: DAY_MS,
    default: 900_000,
    doc: 'refreshes already overdue (after a restart) are spread at random over up to this long',
  },
  { key: 'skewMs', type: 'number', min: 0, max: DAY_MS, default: 300_000, doc: 'clock skew allowed for thisUpdate' },
  { key: 'maxAgeWithoutNextUpdateMs', ...MS, default: 3_600_000, doc: 'lifetime of a response that has no nextUpdate' },
  { key: 'maxResponseBytes', type: 'integer', min: 1024, max: MAX_RESPONSE_BYTES_LIMIT, default: 65_536, doc: 'largest response accepted' },
  { key: 'allowSha1Signatures', type: 'boolean', default: false, doc: 'accept SHA-1 signatures' },
  { key: 'hash', type: 'enum', values: ['sha1', 'sha256', 'sha384', 'sha512'], default: 'sha1', doc: 'CertID hash' },
  { key: 'concurrency', type: 'integer', min: 1, max: 1024, default: 64, doc: 'fetches running at once, across all certificates and responders' },
  { key: 'responderConcurrency', type: 'integer', min: 1, max: 1024, default: 8, doc: 'fetches running at once to one responder origin' },
  {
    key: 'responderRatePerSecond',
    type: 'number',
    min: 0,
    max: 100_000,
    default: 200,
    doc: 'fetches started per second to one responder origin, evenly spaced (0: no rate limit)',
  },
  { key: 'leaseTtlMs', ...MS, default: 30_000, doc: "how long one process may hold a certificate's refresh lease in a shared store" },
];

/** The top-level option names the schema covers ("refresh" for every "refresh.x"). */
export const OPTION_KEYS: readonly string[] = [...new Set(OPTION_SCHEMA.map((s) => s.key.split('.')[0]!))];

export function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return String(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** What a value of this type must be, in words: the end of "expected ...". */
export function expectation(spec: OptionType): string {
  switch (spec.type) {
    case 'number':
    case 'integer': {
      const what = spec.type === 'integer' ? 'a whole number' : 'a number';
      if (!spec.minExclusive && !spec.maxExclusive) return `${what} from ${spec.min} to ${spec.max}`;
      return `${what} ${spec.minExclusive ? 'greater than' : 'at least'} ${spec.min} and ${spec.maxExclusive ? 'less than' : 'at most'} ${spec.max}`;
    }
    case 'boolean':
      return 'true or false';
    case 'enum':
      return `one of ${spec.values.join(', ')}`;
    case 'urls':
      return 'a list of http:// or https:// URLs';
    case 'urlsByKey':
      return 'a mapping from issuer to a list of http:// or https:// URLs';
    case 'proxy':
      return 'a plain-HTTP proxy URL such as http://proxy:3128';
  }
}

const invalid = (name: string, value: unknown, spec: OptionType): InputError =>
  new InputError(name, `${describeValue(value)} is not valid: expected ${expectation(spec)}`);

function urlListProblems(name: string, value: unknown, spec: OptionType): InputError[] {
  if (!Array.isArray(value)) return [invalid(name, value, spec)];
  return value.flatMap((url, i) => {
    if (typeof url !== 'string') return [invalid(`${name}[${i}]`, url, spec)];
    const problem = responderUrlProblem(url);
    return problem ? [new InputError(name, problem)] : [];
  });
}

/** Every problem with one value of one option (an empty list when it is acceptable). */
export function valueProblems(spec: OptionSpec, value: unknown, name: string = spec.key): InputError[] {
  switch (spec.type) {
    case 'number':
    case 'integer': {
      const ok =
        typeof value === 'number' &&
        Number.isFinite(value) &&
        (spec.type === 'number' || Number.isInteger(value)) &&
        (spec.minExclusive ? value > spec.min : value >= spec.min) &&
        (spec.maxExclusive ? value < spec.max : value <= spec.max);
      return ok ? [] : [invalid(name, value, spec)];
    }
    case 'boolean':
      return typeof value === 'boolean' ? [] : [invalid(name, value, spec)];
    case 'enum':
      return typeof value === 'string' && spec.values.includes(value) ? [] : [invalid(name, value, spec)];
    case 'urls':
      return urlListProblems(name, value, spec);
    case 'urlsByKey':
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return [invalid(name, value, spec)];
      return Object.entries(value).flatMap(([issuer, list]) => urlListProblems(`${name}[${JSON.stringify(issuer)}]`, list, { type: 'urls' }));
    case 'proxy': {
      if (typeof value !== 'string') return [invalid(name, value, spec)];
      const problem = responderUrlProblem(value);
      if (problem) return [new InputError(name, problem)];
      // undici would tunnel through an https: proxy with a raw deprecation warning; the fetcher
      // speaks plain HTTP to proxies.
      return value.startsWith('http:')
        ? []
        : [new InputError(name, `${describeValue(value)} is not valid: expected ${expectation(spec)} (https: proxies are not supported)`)];
    }
  }
}

function own(o: object, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(o, key) ? (o as Record<string, unknown>)[key] : undefined;
}

/**
 * Every problem with a set of options, in table order. `naming` turns an option's name into the
 * item its error names (the daemon says `config key "x"`). Keys the table does not know are not
 * checked here: the library ignores them, the daemon refuses them itself.
 */
export function optionProblems(o: Readonly<Record<string, unknown>>, naming: (key: string) => string = (k) => k): InputError[] {
  const problems: InputError[] = [];
  const rename = (e: InputError): InputError => new InputError(naming(e.item), e.reason);
  const refresh = own(o, 'refresh');
  if (refresh !== undefined && (typeof refresh !== 'object' || refresh === null || Array.isArray(refresh))) {
    problems.push(new InputError(naming('refresh'), `${describeValue(refresh)} is not valid: expected a mapping of refresh settings`));
  }
  const refreshObject = typeof refresh === 'object' && refresh !== null && !Array.isArray(refresh) ? refresh : {};
  for (const spec of OPTION_SCHEMA) {
    const [head, sub] = spec.key.split('.') as [string, string | undefined];
    const value = sub === undefined ? own(o, head) : own(refreshObject, sub);
    if (value === undefined) continue;
    problems.push(...valueProblems(spec, value).map(rename));
  }
  const initial = own(refreshObject, 'backoffInitialMs');
  const max = own(refreshObject, 'backoffMaxMs');
  if (typeof initial === 'number' && typeof max === 'number' && max < initial) {
    problems.push(new InputError(naming('refresh.backoffMaxMs'), `${max} is less than refresh.backoffInitialMs (${initial})`));
  }
  return problems;
}

/** Combine problems into one InputError: the problem itself when there is one. */
export function combinedError(label: string, problems: readonly InputError[]): InputError {
  if (problems.length === 1) return problems[0]!;
  return new InputError(label, `${problems.length} problems:\n${problems.map((p) => `  - ${p.message}`).join('\n')}`);
}

/** Check the settings up front: throws an InputError naming the option, the value and what is expected. */
export function validateOptions(o: EngineSettings): void {
  const problems = optionProblems(o as unknown as Readonly<Record<string, unknown>>);
  if (problems.length > 0) throw combinedError('options', problems);
}

/** The verification settings among the options (the engine checks every staple with these). */
export function verifySettingsOf(options: EngineSettings): Partial<VerifySettings> {
  return {
    ...(options.skewMs !== undefined ? { skewMs: options.skewMs } : {}),
    ...(options.maxAgeWithoutNextUpdateMs !== undefined ? { maxAgeWithoutNextUpdateMs: options.maxAgeWithoutNextUpdateMs } : {}),
    ...(options.maxResponseBytes !== undefined ? { maxResponseBytes: options.maxResponseBytes } : {}),
    ...(options.allowSha1Signatures !== undefined ? { allowSha1Signatures: options.allowSha1Signatures } : {}),
  };
}
