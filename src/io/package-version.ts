// Stapler's own version, from its package.json: read once per process, when first asked.
// The file lies two levels above this module both in the source tree (src/io/) and in the built
// package (dist/io/), so the same path serves tsx, a checkout's dist and an installed tarball.

import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** The `version` of Stapler's package.json, or "unknown" when that file is not beside us (a bundle). */
export function packageVersion(): string {
  cached ??= readVersion();
  return cached;
}

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name?: unknown; version?: unknown };
    return pkg.name === 'stapler' && typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
