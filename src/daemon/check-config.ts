// `stapler daemon --check-config`: what the daemon would refuse, found before it starts. It
// writes nothing. Errors are what the daemon refuses (the issuer file, output paths that
// overwrite a certificate or are shared); warnings are what it survives (a glob that matches
// nothing yet).

import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { dirname } from 'node:path';
import { describeFsError, readFileCapped } from '../io/files.ts';
import { InputError } from '../ocsp/errors.ts';
import { readCertificates } from '../ocsp/pem.ts';
import { checkHookPrograms } from './alerts/hook-programs.ts';
import type { DaemonConfig } from './config.ts';
import { CERT_FILE_LIMIT, holdsCertificate, matchCertificates, outputConflict, outputsOf } from './inputs.ts';

export interface ConfigReport {
  readonly errors: readonly InputError[];
  readonly warnings: readonly string[];
  /** The certificate files each glob matches. */
  readonly files: number;
}

export async function checkConfigFiles(config: DaemonConfig): Promise<ConfigReport> {
  const errors: InputError[] = [];
  const warnings: string[] = [];
  if (config.issuer) {
    try {
      readCertificates(await readFileCapped(config.issuer, CERT_FILE_LIMIT, { regularFileOnly: true }), config.issuer);
    } catch (err) {
      errors.push(err instanceof InputError ? new InputError(`config key "issuer"`, err.message) : new InputError('config key "issuer"', String(err)));
    }
  }
  errors.push(...(await checkHookPrograms(config.hooks)));
  const { inputs, empty, unknown } = await matchCertificates(config, () => false, holdsCertificate);
  for (const glob of empty) warnings.push(`certificate glob ${glob} matches no file (yet)`);
  for (const u of unknown) errors.push(new InputError(`certificate glob ${u.glob}`, u.reason));
  const owners = new Map<string, string>();
  for (const path of inputs) {
    const outputs = outputsOf(config, path);
    const conflict = outputConflict(path, outputs, inputs, (o) => owners.get(o) ?? null);
    if (conflict) {
      errors.push(new InputError(path, `would be refused: ${conflict}`));
      continue;
    }
    if (outputs.stapleFile) owners.set(outputs.stapleFile, path);
    if (outputs.includeFile) owners.set(outputs.includeFile, path);
    // Parsed as the daemon will: a file that is not a certificate (garbage, a private key such as
    // certbot's privkey.pem) is skipped by the daemon, which runs on: a warning naming it.
    const unusable = await readAsTheDaemonWill(path);
    if (unusable) warnings.push(`${path}: not a certificate, the daemon will skip it: ${unusable}`);
  }
  for (const dir of new Set([...owners.keys()].map((o) => dirname(o)))) {
    const problem = await unwritable(dir);
    if (problem) warnings.push(`output directory ${dir}: the daemon cannot write there (${problem}): its staple files and includes would fail`);
  }
  if (config.probe && !config.listen)
    warnings.push("probe is configured but listen is not: /probe and the probe targets' results in /metrics need the listener");
  return { errors, warnings, files: inputs.size };
}

/** Why the daemon would not use this file, or null: read and parsed as it will. */
async function readAsTheDaemonWill(path: string): Promise<string | null> {
  try {
    readCertificates(await readFileCapped(path, CERT_FILE_LIMIT, { regularFileOnly: true }), path);
    return null;
  } catch (err) {
    return err instanceof InputError ? err.reason : String(err);
  }
}

async function unwritable(dir: string): Promise<string | null> {
  try {
    await access(dir, constants.W_OK);
    return null;
  } catch (err) {
    return describeFsError(err);
  }
}
