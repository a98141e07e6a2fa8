import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

const root = new URL('../..', import.meta.url).pathname;
const built = existsSync(`${root}dist/cli/main.js`);
const skip = built ? false : 'dist/ is not built: run `npm run build`';
if (skip) console.log(`# skipping the installed-bin test: ${skip}`);

describe('the installed `stapler` bin', { skip }, () => {
  it('runs the compiled CLI', () => {
    const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string; bin: Record<string, string> };
    const out = execFileSync(process.execPath, [`${root}${pkg.bin.stapler}`, '--version'], { encoding: 'utf8' });
    assert.equal(out.trim(), pkg.version);
  });
});
