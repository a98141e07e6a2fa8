// Writes man/stapler.1 from the CLI's own definitions (run by `npm run build`), so that the man
// page cannot drift from `stapler --help`. Dated by the last commit (or today outside a checkout),
// so that a rebuild of the same source gives the same page.

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { buildProgram } from '../src/cli/program.ts';
import { manPage } from '../src/cli/man-page.ts';

const root = new URL('..', import.meta.url);
const { version } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { version: string };
let date: string;
try {
  date = execFileSync('git', ['log', '-1', '--format=%cs'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
} catch {
  date = new Date().toISOString().slice(0, 10);
}
mkdirSync(new URL('man/', root), { recursive: true });
writeFileSync(
  new URL('man/stapler.1', root),
  manPage(
    buildProgram(() => undefined),
    version,
    date || new Date().toISOString().slice(0, 10),
  ),
);
