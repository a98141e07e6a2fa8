// The CLI's commands and options as plain data, read from the commander program itself: the man
// page and the shell completions are made from it, so neither can drift from `--help`.

import type { Command } from 'commander';

/** One option: its flags as typed (`--cert <pem>`), its long and short names, and its help. */
export interface OptionInfo {
  readonly flags: string;
  readonly long: string | undefined;
  readonly short: string | undefined;
  readonly takesValue: boolean;
  readonly description: string;
  readonly defaultValue: string | undefined;
}

/** One command: its name, arguments, help and options. */
export interface CommandInfo {
  readonly name: string;
  readonly usage: string;
  readonly description: string;
  readonly options: readonly OptionInfo[];
}

function optionsOf(cmd: Command): OptionInfo[] {
  return cmd.options.map((o) => ({
    flags: o.flags,
    long: o.long,
    short: o.short,
    takesValue: o.required || o.optional,
    description: o.description,
    defaultValue: o.defaultValue === undefined ? undefined : JSON.stringify(o.defaultValue as unknown),
  }));
}

/** The program's own options and each of its commands. */
export function commandTree(program: Command): { program: CommandInfo; commands: CommandInfo[] } {
  const info = (cmd: Command): CommandInfo => ({ name: cmd.name(), usage: cmd.usage(), description: cmd.description(), options: optionsOf(cmd) });
  return { program: info(program), commands: program.commands.map(info) };
}
