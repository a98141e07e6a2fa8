// stapler h2o-fetch: h2o's `ocsp-update-cmd`. h2o (2.2) runs the command with the certificate
// file as its only argument, staples whatever DER it prints on exit 0, keeps its old staple on
// exit 75 (EX_TEMPFAIL) until `ocsp-max-failures` such exits in a row, and on any other exit
// stops updating that certificate for good while still stapling the old response. It never
// looks at nextUpdate. So this command prints only the daemon's staple file, verified, and
// only while it stays valid for as long as h2o may hold it; everything else is exit 75.

import { printable } from '../../ocsp/printable.ts';
import { verifyResponse } from '../../ocsp/verify.ts';
import { expandTemplate, templateProblem } from '../../daemon/template.ts';
import { InputError } from '../../ocsp/errors.ts';
import { readFileCapped } from '../../io/files.ts';
import { loadCertAndIssuer, RESPONSE_FILE_LIMIT } from '../inputs.ts';
import { parseSeconds, type VerifyFlags, verifySettingsFrom } from '../options.ts';

/** sysexits.h: h2o keeps its current staple and asks again after ocsp-update-interval. */
export const EX_TEMPFAIL = 75;

export interface H2oFetchOptions extends VerifyFlags {
  stapleFile?: string;
  issuer?: string;
  interval?: string;
  maxFailures?: string;
  margin?: string;
}

export interface H2oFetchIo {
  /** Where the DER goes (h2o reads the command's standard output). */
  writeStaple: (der: Buffer) => void;
  log: (s: string) => void;
  now: () => number;
}

/** h2o's defaults for ocsp-update-interval (s) and ocsp-max-failures. */
const H2O_INTERVAL_S = 14_400;
const H2O_MAX_FAILURES = 3;

/**
 * How long h2o may go on stapling what this run prints: it asks again after `interval`, and on
 * each of `maxFailures` exits 75 in a row it keeps the old staple for another interval. The
 * margin covers the runs themselves (start-up, h2o's queue of updaters).
 */
export function holdMs(intervalS: number, maxFailures: number, marginS: number): number {
  return ((maxFailures + 1) * intervalS + marginS) * 1000;
}

export async function h2oFetchCommand(certFile: string, opts: H2oFetchOptions, io: H2oFetchIo): Promise<number> {
  const say = (why: string): number => {
    io.log(`stapler h2o-fetch: ${printable(certFile)}: ${why}; exit ${EX_TEMPFAIL} (h2o keeps or drops its staple by ocsp-max-failures)`);
    return EX_TEMPFAIL;
  };
  try {
    const template = opts.stapleFile ?? '{cert}.ocsp';
    const problem = templateProblem(template);
    if (problem) throw new InputError('--staple-file', problem);
    const intervalS = parseSeconds(opts.interval ?? String(H2O_INTERVAL_S), '--interval', 1, 30 * 86_400);
    const maxFailures = parseSeconds(opts.maxFailures ?? String(H2O_MAX_FAILURES), '--max-failures', 0, 1000);
    if (!Number.isInteger(maxFailures)) throw new InputError('--max-failures', `"${opts.maxFailures}" must be a whole number`);
    const marginS = parseSeconds(opts.margin ?? '60', '--margin', 0, 86_400);
    const settings = verifySettingsFrom(opts);
    const { cert, issuer } = await loadCertAndIssuer(certFile, opts.issuer);
    const stapleFile = expandTemplate(template, certFile);
    let der: Buffer;
    try {
      der = await readFileCapped(stapleFile, RESPONSE_FILE_LIMIT, { regularFileOnly: true });
    } catch (err) {
      // No file is the daemon's definite "no acceptable staple"; any other error is unknown. Both
      // are 75: h2o keeps what it has only as long as ocsp-max-failures allows, which holdMs covers.
      if (err instanceof InputError && err.reason === 'does not exist')
        return say(`no staple file ${printable(stapleFile)} (the daemon has no acceptable staple)`);
      throw err;
    }
    const now = io.now();
    const verdict = verifyResponse(der, { certificate: cert, issuer, now, settings });
    if (!verdict.ok) return say(`the staple file ${printable(stapleFile)} is refused: ${verdict.reason}: ${verdict.message}`);
    const needed = now + holdMs(intervalS, maxFailures, marginS);
    if (verdict.validUntil < needed) {
      return say(
        `the staple expires at ${new Date(verdict.validUntil).toISOString()}, before h2o would replace it (${new Date(needed).toISOString()}: ` +
          `(ocsp-max-failures + 1) x ocsp-update-interval + margin from now)`,
      );
    }
    io.writeStaple(der);
    return 0;
  } catch (err) {
    // Any other exit makes h2o stop updating this certificate and staple its old response forever.
    if (err instanceof InputError) return say(err.message);
    return say(`unexpected error: ${(err as Error).message}`);
  }
}
