// `stapler completion bash|zsh|fish` and the man page are made from the CLI's own definitions:
// every command and every long option is in them, and bash completes with the script.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { commandTree } from '../../src/cli/command-tree.ts';
import { completionScript } from '../../src/cli/completion.ts';
import { manPage } from '../../src/cli/man-page.ts';
import { buildProgram } from '../../src/cli/program.ts';

const program = buildProgram(() => undefined);
const { commands } = commandTree(program);
const has = (bin: string): boolean => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;

/** What bash offers for the words typed so far (the last is being completed). */
function bashCompletes(words: string[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'stapler-completion-'));
  try {
    const script = join(dir, 'stapler.bash');
    writeFileSync(script, completionScript(program, 'bash'));
    const words_ = words.map((w) => `'${w}'`).join(' ');
    const run = spawnSync(
      'bash',
      ['-c', `source ${script}; COMP_WORDS=(${words_}); COMP_CWORD=${words.length - 1}; _stapler; printf '%s\\n' "\${COMPREPLY[@]}"`],
      {
        encoding: 'utf8',
        cwd: dir,
      },
    );
    assert.equal(run.status, 0, run.stderr);
    return run.stdout.split('\n').filter(Boolean);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('shell completion and the man page', () => {
  it('bash completes commands, and each command its own options', () => {
    assert.deepEqual(bashCompletes(['stapler', 'ch']), ['check']);
    assert.deepEqual(bashCompletes(['stapler', 'check', '--ti']), ['--timeout']);
    assert.deepEqual(bashCompletes(['stapler', 'daemon', '--check']), ['--check-config']);
  });

  it('names every command and every long option, in each shell and in the man page', () => {
    const page = manPage(program, '0.0.0', '2026-01-01');
    const scripts = { bash: completionScript(program, 'bash'), zsh: completionScript(program, 'zsh'), fish: completionScript(program, 'fish') };
    assert.ok(commands.length >= 7);
    for (const c of commands) {
      assert.ok(page.includes(`.SS "stapler ${c.name} `), `man: ${c.name}`);
      for (const [shell, text] of Object.entries(scripts)) assert.ok(text.includes(c.name), `${shell}: ${c.name}`);
      for (const o of c.options) {
        if (!o.long) continue;
        assert.ok(page.includes(o.long.replace(/-/g, '\\-')), `man: ${c.name} ${o.long}`);
        assert.ok(scripts.bash.includes(o.long), `bash: ${c.name} ${o.long}`);
        assert.ok(scripts.zsh.includes(o.long), `zsh: ${c.name} ${o.long}`);
        assert.ok(scripts.fish.includes(`-l ${o.long.slice(2)}`), `fish: ${c.name} ${o.long}`);
      }
    }
  });

  it('makes scripts each shell parses', (t) => {
    for (const shell of ['bash', 'zsh', 'fish'] as const) {
      if (!has(shell)) {
        t.diagnostic(`${shell} is not installed: its script is not parsed`);
        continue;
      }
      const run = spawnSync(shell, ['-n'], { input: completionScript(program, shell), encoding: 'utf8' });
      assert.equal(run.status, 0, `${shell}: ${run.stderr}`);
    }
  });

  it('makes a man page that man renders without warnings', (t) => {
    if (!has('man')) return t.skip('man is not installed');
    const dir = mkdtempSync(join(tmpdir(), 'stapler-man-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'stapler.1');
    writeFileSync(file, manPage(program, '0.0.0', '2026-01-01'));
    const run = spawnSync('man', ['-l', '--warnings', file], { encoding: 'utf8', env: { ...process.env, MANPAGER: 'cat', MANWIDTH: '100' } });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stderr, '');
    assert.match(run.stdout, /stapler check/);
  });
});
