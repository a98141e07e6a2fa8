// stapler check <host:port>: a live server's stapling, judged as a strict client would.

import { X509Certificate } from 'node:crypto';
import { InputError } from '../../ocsp/errors.ts';
import { parseTarget, probe, ProbeError } from '../../check/probe.ts';
import { probeSamples, renderProbeText, type ProbeOutcome } from '../../check/probe-metrics.ts';
import { readCertificates } from '../../ocsp/pem.ts';
import { verdictJson } from '../describe.ts';
import { EXIT } from '../exit-codes.ts';
import { CERT_FILE_LIMIT, readInput } from '../inputs.ts';
import { parseSeconds } from '../options.ts';

export interface CheckOptions {
  servername?: string;
  ca?: string;
  tls12?: boolean;
  tls13?: boolean;
  timeout?: string;
  json?: boolean;
  /** text (default), json (as --json) or prometheus (the metrics the daemon's /probe answers). */
  format?: string;
}

const FORMATS = ['text', 'json', 'prometheus'];

export async function checkCommand(
  targetText: string,
  opts: CheckOptions,
  io: { out: (s: string) => void; log: (s: string) => void; now: () => number },
): Promise<number> {
  const target = parseTarget(targetText);
  if (opts.tls12 && opts.tls13) throw new InputError('--tls1.2/--tls1.3', 'give one or neither');
  const timeoutMs = opts.timeout === undefined ? 10_000 : parseSeconds(opts.timeout, '--timeout', 0.1, 300) * 1000;
  if (opts.format !== undefined && !FORMATS.includes(opts.format)) throw new InputError('--format', `"${opts.format}" is not one of ${FORMATS.join(', ')}`);
  const format = opts.json ? 'json' : (opts.format ?? 'text');
  const ca = opts.ca ? await readCaFile(opts.ca) : undefined;
  let result;
  const started = performance.now();
  const prometheus = (outcome: ProbeOutcome): void => io.out(renderProbeText([{ samples: probeSamples(outcome, io.now()) }]).trimEnd());
  try {
    result = await probe(target, { servername: opts.servername, ca, tls: opts.tls12 ? '1.2' : opts.tls13 ? '1.3' : undefined, timeoutMs, now: io.now });
  } catch (err) {
    if (!(err instanceof ProbeError)) throw err;
    if (format === 'json') io.out(JSON.stringify({ target: targetText, ok: false, error: err.message }));
    if (format === 'prometheus') prometheus({ error: err, durationMs: performance.now() - started });
    io.log(`stapler: ${err.message}`);
    return EXIT.usage;
  }
  if (format === 'prometheus') {
    prometheus({ result, durationMs: performance.now() - started });
  } else if (format === 'json') {
    io.out(
      JSON.stringify({
        target: targetText,
        ok: result.ok,
        protocol: result.protocol,
        servername: result.servername,
        certificate: result.certificate,
        staple: result.staple ? verdictJson(result.staple) : null,
        stapleProblem: result.stapleProblem,
        timeLeftSeconds: result.staple?.ok ? Math.max(0, Math.floor((result.staple.validUntil - io.now()) / 1000)) : null,
        mustStapleCompliant: result.mustStapleCompliant,
        summary: result.summary,
      }),
    );
  } else {
    const c = result.certificate;
    io.out(
      [
        `${targetText}${result.servername ? ` (${result.servername})` : ''}, ${result.protocol}`,
        `  certificate: ${c.subject}, serial ${c.serial}, Must-Staple: ${c.mustStaple ? 'yes' : 'no'}`,
        `  ${result.summary}`,
        ...(result.staple ? [`  thisUpdate ${iso(result.staple.thisUpdate)}, nextUpdate ${iso(result.staple.nextUpdate)}`] : []),
        `  verdict: ${result.ok ? 'OK' : 'FAIL'}`,
      ].join('\n'),
    );
  }
  if (result.ok) return EXIT.ok;
  return !result.staple && result.noResponder ? EXIT.noResponder : EXIT.rejected;
}

/** --ca: certificates only. A key, an empty file or anything else is refused, naming the file. */
async function readCaFile(path: string): Promise<Buffer> {
  const bytes = await readInput(path, CERT_FILE_LIMIT, { regularFileOnly: true });
  if (bytes.length === 0) throw new InputError(path, 'is empty: --ca needs CA certificates (PEM)');
  const certs = readCertificates(bytes, path);
  return Buffer.from(certs.map((c) => new X509Certificate(c.der).toString()).join(''));
}

function iso(t: number | null): string {
  return t === null ? '(none)' : new Date(t).toISOString();
}
