// Which files are certificates and which paths the daemon writes for each. Shared by the
// running daemon and `--check-config`, so that both refuse the same things: an output path
// that is a certificate file (the daemon would overwrite it), one that two certificates share,
// and a staple path that cannot go into an nginx include.

import { readFileCapped } from '../io/files.ts';
import { readCertificates } from '../ocsp/pem.ts';
import type { DaemonConfig } from './config.ts';
import { expandGlob, GlobUnknownError } from './glob.ts';
import { nginxPathProblem } from './nginx.ts';
import { expandTemplate } from './template.ts';

export const CERT_FILE_LIMIT = 1024 * 1024;
export const STAPLE_FILE_LIMIT = 1024 * 1024;

export interface Outputs {
  /** null: no staple file (`stapleFile: false`). */
  readonly stapleFile: string | null;
  readonly includeFile: string | null;
}

export function outputsOf(config: Pick<DaemonConfig, 'stapleFile' | 'nginxInclude'>, certFile: string): Outputs {
  return {
    stapleFile: config.stapleFile === null ? null : expandTemplate(config.stapleFile, certFile),
    includeFile: config.nginxInclude ? expandTemplate(config.nginxInclude, certFile) : null,
  };
}

/** True when the file holds a certificate (so it is an input, whatever its name). */
export async function holdsCertificate(path: string): Promise<boolean> {
  try {
    readCertificates(await readFileCapped(path, CERT_FILE_LIMIT, { regularFileOnly: true }), path);
    return true;
  } catch {
    return false;
  }
}

export interface Matches {
  readonly inputs: Set<string>;
  /** The globs that match nothing. */
  readonly empty: string[];
  /** The globs whose expansion failed with an error that leaves it unknown (their last matches were used), and why. */
  readonly unknown: { readonly glob: string; readonly reason: string }[];
}

/**
 * The certificate files the globs match now. A matched path that is one of the daemon's own
 * outputs (known as such, named .ocsp, or the output of another matched file and holding no
 * certificate) is not an input. A glob whose expansion fails (EMFILE, EIO, EACCES...) matches
 * what it matched last time (`last`, updated here): an error is not an absence.
 */
export async function matchCertificates(
  config: Pick<DaemonConfig, 'certificates' | 'stapleFile' | 'nginxInclude'>,
  isKnownOutput: (path: string) => boolean,
  isCertificate: (path: string) => Promise<boolean>,
  last: Map<string, readonly string[]> = new Map(),
): Promise<Matches> {
  const matched = new Set<string>();
  const empty: string[] = [];
  const unknown: { glob: string; reason: string }[] = [];
  for (const glob of config.certificates) {
    let paths: readonly string[];
    try {
      paths = await expandGlob(glob);
      last.set(glob, paths);
    } catch (err) {
      if (!(err instanceof GlobUnknownError)) throw err;
      unknown.push({ glob, reason: err.message });
      paths = last.get(glob) ?? [];
    }
    if (paths.length === 0 && !unknown.some((u) => u.glob === glob)) empty.push(glob);
    for (const p of paths) if (!isKnownOutput(p) && !p.endsWith('.ocsp') && !p.endsWith('.issuer')) matched.add(p);
  }
  for (const g of last.keys()) if (!config.certificates.includes(g)) last.delete(g);
  const outputsOfOthers = new Set<string>();
  for (const p of matched) {
    const { stapleFile, includeFile } = outputsOf(config, p);
    for (const o of [stapleFile, includeFile]) if (o && o !== p && matched.has(o)) outputsOfOthers.add(o);
  }
  const inputs = new Set<string>();
  for (const p of matched) if (!outputsOfOthers.has(p) || (await isCertificate(p))) inputs.add(p);
  return { inputs, empty, unknown };
}

/**
 * Why this certificate file's outputs cannot be written, or null: an output that is a
 * certificate file, an output another certificate file already has, or a staple path nginx
 * cannot be given safely.
 */
export function outputConflict(certFile: string, outputs: Outputs, inputs: ReadonlySet<string>, ownerOf: (path: string) => string | null): string | null {
  const named = [
    ...(outputs.stapleFile !== null ? [['staple file', outputs.stapleFile] as const] : []),
    ...(outputs.includeFile ? [['nginx include', outputs.includeFile] as const] : []),
  ];
  for (const [kind, path] of named) {
    if (path === certFile) return `its ${kind} would be the certificate file itself (check the stapleFile/nginxInclude templates)`;
    if (inputs.has(path)) return `its ${kind} ${path} would overwrite a certificate file matched by the globs`;
    const owner = ownerOf(path);
    if (owner !== null && owner !== certFile)
      return `its ${kind} ${path} is already the output of ${owner}: each certificate needs its own (use {cert}, or {dir} with {name})`;
  }
  const problem = outputs.includeFile && outputs.stapleFile ? nginxPathProblem(outputs.stapleFile) : null;
  return problem ? `its staple file cannot be named in the nginx include: ${problem}` : null;
}

/** An error's message, for a log line about one file. */
export function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
