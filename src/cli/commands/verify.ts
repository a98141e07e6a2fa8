// stapler verify: judge a response file for a certificate, at a given time.

import { verifyResponse } from '../../ocsp/verify.ts';
import { verdictJson } from '../describe.ts';
import { EXIT } from '../exit-codes.ts';
import { loadCertAndIssuer, loadResponseFile } from '../inputs.ts';
import { parseTime, type VerifyFlags, verifySettingsFrom } from '../options.ts';

export interface VerifyOptions extends VerifyFlags {
  cert: string;
  issuer?: string;
  at?: string;
}

export async function verifyCommand(path: string, opts: VerifyOptions, out: (s: string) => void, now: () => number): Promise<number> {
  const at = opts.at === undefined ? now() : parseTime(opts.at, '--at');
  const settings = verifySettingsFrom(opts);
  const { cert, issuer } = await loadCertAndIssuer(opts.cert, opts.issuer);
  const der = await loadResponseFile(path);
  const verdict = verifyResponse(der, { certificate: cert, issuer, now: at, settings });
  out(JSON.stringify(verdictJson(verdict)));
  return verdict.ok ? EXIT.ok : EXIT.rejected;
}
