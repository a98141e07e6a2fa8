// A test fixture run as its own process (as an unprivileged user when root would not hit the
// failure: root reads any file or folder), whose report is the last line of its output, as JSON.

import { execFile } from 'node:child_process';
import { chown } from 'node:fs/promises';

/** The uid and gid of `nobody`. */
export const NOBODY = 65534;

/** Give `paths` to `nobody` (a child run as it must read and write them). */
export async function giveToNobody(paths: readonly string[]): Promise<void> {
  for (const p of paths) await chown(p, NOBODY, NOBODY);
}

/** Run `file args` (from `cwd`, as `nobody` if asked, in `env` if given, for at most 60 s) and parse the last line it prints. */
export function childReport<T>(
  file: string,
  args: readonly string[],
  opts: { readonly cwd: string; readonly asNobody?: boolean; readonly env?: NodeJS.ProcessEnv },
): Promise<T> {
  return new Promise<T>((resolve, reject) =>
    execFile(file, args, { cwd: opts.cwd, env: opts.env, ...(opts.asNobody ? { uid: NOBODY, gid: NOBODY } : {}), timeout: 60_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout.trim().split('\n').pop()!) as T),
    ),
  );
}
