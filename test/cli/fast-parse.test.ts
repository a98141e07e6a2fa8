// The fast path of `stapler verify` and `stapler check` (main.ts runs them without commander):
// every line it accepts, commander parses to the same arguments and options; every line it
// cannot be sure of (help, errors, repeats, unknown or short options) it leaves to commander.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Command } from 'commander';
import { CHECK, type CommandSpec, FAST_COMMANDS, VERIFY } from '../../src/cli/command-specs.ts';
import { attributeName, fastParse } from '../../src/cli/fast-parse.ts';
import { buildProgram } from '../../src/cli/program.ts';

type Parsed = { args: unknown[]; opts: Record<string, unknown> } | 'refused';

/** What the real commander program makes of `stapler <spec.name> ...line` (its action replaced by a recorder). */
async function commanderParse(spec: CommandSpec, line: readonly string[]): Promise<Parsed> {
  const program = buildProgram(() => undefined);
  const silent = { writeOut: () => undefined, writeErr: () => undefined };
  program.configureOutput(silent);
  const cmd = program.commands.find((c) => c.name() === spec.name)!;
  cmd.configureOutput(silent);
  let parsed: Parsed = 'refused';
  cmd.action((...params: unknown[]) => {
    const self = params[params.length - 1] as Command;
    parsed = { args: [...self.processedArgs], opts: { ...self.opts() } };
  });
  try {
    await program.parseAsync([spec.name, ...line], { from: 'user' });
  } catch {
    return 'refused';
  }
  return parsed;
}

/** Lines the fast path must take (the common forms, a monitoring check's among them). */
const TAKEN: [CommandSpec, string[]][] = [
  [VERIFY, ['r.der', '--cert', 'c.pem']],
  [VERIFY, ['--cert', 'c.pem', 'r.der']],
  [VERIFY, ['-', '--cert', 'chain.pem']],
  [VERIFY, ['r.der', '--cert=c.pem', '--issuer', 'i.pem', '--at', '2026-01-01T00:00:00Z', '--skew', '10', '--max-age=20', '--allow-sha1']],
  [VERIFY, ['r.der', '--cert=']],
  [VERIFY, ['r.der', '--cert', 'c.pem', '--at=-1']],
  [CHECK, ['example.com:443']],
  [CHECK, ['--tls1.3', '127.0.0.1:8443', '--servername', 'leaf.test', '--ca', 'root.pem', '--timeout', '3', '--json']],
  [CHECK, ['h:1', '--tls1.2', '--timeout=0.5']],
];

/** Lines it must leave to commander: help, version, errors, and forms it does not parse itself. */
const LEFT: [CommandSpec, string[]][] = [
  [VERIFY, []],
  [VERIFY, ['r.der']],
  [VERIFY, ['r.der', '--cert']],
  [VERIFY, ['r.der', '--cert', '-']],
  [VERIFY, ['r.der', '--cert', 'a.pem', '--cert', 'b.pem']],
  [VERIFY, ['r.der', '--cert', 'c.pem', 'extra']],
  [VERIFY, ['r.der', '--cert', 'c.pem', '--bogus']],
  [VERIFY, ['r.der', '--cert', 'c.pem', '--allow-sha1=yes']],
  [VERIFY, ['r.der', '--cert', 'c.pem', '--skew', '-5']],
  [VERIFY, ['--', 'r.der', '--cert', 'c.pem']],
  [VERIFY, ['--help']],
  [VERIFY, ['r.der', '--cert', 'c.pem', '-h']],
  [VERIFY, ['r.der', '--cert', 'c.pem', '-V']],
  [VERIFY, ['r.der', '--cert', 'c.pem', '--constructor']],
  [CHECK, []],
  [CHECK, ['h:1', 'h:2']],
  [CHECK, ['h:1', '--json=1']],
  [CHECK, ['h:1', '--timeout']],
  [CHECK, ['h:1', '--help']],
];

describe('the fast path of verify and check', () => {
  it('parses every line it takes exactly as commander does', async () => {
    for (const [spec, line] of TAKEN) {
      const fast = fastParse(spec, line);
      assert.ok(fast, `the fast path takes ${spec.name} ${line.join(' ')}`);
      assert.deepEqual({ args: fast.args, opts: fast.opts }, await commanderParse(spec, line), `${spec.name} ${line.join(' ')}`);
    }
  });

  it('leaves help, errors, repeats and unknown or short options to commander', async () => {
    for (const [spec, line] of LEFT) assert.equal(fastParse(spec, line), undefined, `${spec.name} ${line.join(' ')}`);
    // Some of those commander accepts (a repeat: the last wins): the fast path only declines them.
    assert.notEqual(await commanderParse(VERIFY, ['r.der', '--cert', 'a.pem', '--cert', 'b.pem']), 'refused');
  });

  it('uses commander attribute names for every option of the fast commands', () => {
    assert.equal(attributeName('--max-age'), 'maxAge');
    assert.equal(attributeName('--allow-sha1'), 'allowSha1');
    assert.equal(attributeName('--tls1.2'), 'tls1.2');
    const program = buildProgram(() => undefined);
    for (const spec of FAST_COMMANDS) {
      const cmd = program.commands.find((c) => c.name() === spec.name)!;
      assert.deepEqual(
        cmd.options.map((o) => [o.flags, o.attributeName()]),
        spec.options.map((o) => [o.flags, attributeName(o.flags.split(' ')[0]!)]),
        spec.name,
      );
    }
  });
});
