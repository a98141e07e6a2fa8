// stapler fetch: ask the certificate's responders, verify, and keep the response only if acceptable.

import { FetchError, OcspHttpClient, responderUrlProblem } from '../../fetch/http.ts';
import { proxyUrlProblem } from '../../fetch/url.ts';
import { fetchStaple, NoResponderError, type Attempt } from '../../fetch/fetch-staple.ts';
import { InputError } from '../../ocsp/errors.ts';
import { printable } from '../../ocsp/printable.ts';
import { writeFileAtomic, describeFsError, readFileCapped } from '../../io/files.ts';
import { readCertificates } from '../../ocsp/pem.ts';
import { verdictJson, type VerdictJson } from '../describe.ts';
import { EXIT } from '../exit-codes.ts';
import { CERT_FILE_LIMIT, loadCertAndIssuer } from '../inputs.ts';
import { parseSeconds, type VerifyFlags, verifySettingsFrom } from '../options.ts';

export interface FetchOptions extends VerifyFlags {
  cert: string;
  issuer?: string;
  url?: string[];
  proxy?: string;
  timeout?: string;
  sha256?: boolean;
  nonce?: boolean;
  out?: string;
}

export interface FetchIo {
  out: (s: string) => void;
  log: (s: string) => void;
  now: () => number;
}

export async function fetchCommand(opts: FetchOptions, io: FetchIo): Promise<number> {
  const timeoutMs = opts.timeout === undefined ? 5_000 : parseSeconds(opts.timeout, '--timeout', 0.1, 300) * 1000;
  for (const url of opts.url ?? []) {
    const problem = responderUrlProblem(url);
    if (problem) throw new InputError('--url', problem);
  }
  if (opts.proxy !== undefined) {
    const problem = proxyUrlProblem(opts.proxy);
    if (problem) throw new InputError('--proxy', problem);
  }
  const verify = verifySettingsFrom(opts);
  // No responder is "nothing to do" (exit 3), whether or not the issuer is at hand.
  const leaf = readCertificates(await readFileCapped(opts.cert, CERT_FILE_LIMIT), opts.cert)[0]!;
  if (!opts.url?.length && leaf.ocspUrls.length === 0) {
    io.log(`stapler: certificate "${leaf.subject}" (serial ${leaf.serialHex}) names no OCSP responder; nothing to fetch`);
    return EXIT.noResponder;
  }
  const { cert, issuer } = await loadCertAndIssuer(opts.cert, opts.issuer);
  const client = new OcspHttpClient({ timeoutMs, proxy: opts.proxy });
  try {
    const result = await fetchStaple({
      certificate: cert,
      issuer,
      client,
      urls: opts.url ?? [],
      hash: opts.sha256 ? 'sha256' : 'sha1',
      nonce: opts.nonce ?? false,
      verify,
      now: io.now,
    });
    for (const a of result.attempts) io.log(describeAttempt(a));
    if (result.accepted) {
      if (opts.out) {
        try {
          await writeFileAtomic(opts.out, result.accepted.der, { mode: 0o644 });
        } catch (err) {
          throw new InputError(opts.out, `cannot write: ${describeFsError(err)}`);
        }
      }
      io.out(JSON.stringify({ ...verdictJson(result.accepted.verdict), url: result.accepted.response.url }));
      return EXIT.ok;
    }
    io.out(JSON.stringify(lastFailure(result.attempts, cert.serialHex)));
    return EXIT.rejected;
  } catch (err) {
    if (err instanceof NoResponderError) {
      io.log(`stapler: ${err.message}; nothing to fetch`);
      return EXIT.noResponder;
    }
    throw err;
  } finally {
    await client.close();
  }
}

function describeAttempt(a: Attempt): string {
  if (!a.ok) return `stapler: ${a.error.message}`;
  const v = a.verdict;
  return `stapler: ${a.response.method} ${printable(a.url)}: ${v.ok ? `acceptable (${v.certStatus})` : `rejected: ${v.reason}: ${v.message}`}`;
}

function lastFailure(attempts: readonly Attempt[], serial: string): VerdictJson & { url: string | null } {
  const last = attempts[attempts.length - 1];
  if (last?.ok) return { ...verdictJson(last.verdict), url: last.url };
  const error = last?.error ?? new FetchError('network', '', 'no responder answered');
  return {
    ok: false,
    reason: `fetch-${error.reason}`,
    message: error.message,
    certStatus: null,
    serial,
    thisUpdate: null,
    nextUpdate: null,
    producedAt: null,
    url: last?.url ?? null,
  };
}
