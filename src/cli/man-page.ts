// stapler(1), in roff, made from the program's definitions at build time (scripts/man-page.ts).

import type { Command } from 'commander';
import { commandTree, type CommandInfo } from './command-tree.ts';

/** Escape text for roff: backslashes, and a leading dot or quote. */
function roff(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .replace(/^([.'])/gm, '\\&$1');
}

function options(c: CommandInfo): string {
  return c.options
    .map((o) => {
      const dflt = o.defaultValue !== undefined ? ` (default: ${o.defaultValue})` : '';
      return `.TP\n.B ${roff(o.flags)}\n${roff(o.description + dflt)}`;
    })
    .join('\n');
}

/** The man page of `program`, dated `date` (YYYY-MM-DD). */
export function manPage(program: Command, version: string, date: string): string {
  const { program: top, commands } = commandTree(program);
  const visible = commands.filter((c) => c.name !== 'help');
  const sections = visible.map((c) => `.SS "stapler ${c.name} ${roff(c.usage)}"\n${roff(c.description)}\n${options(c)}`).join('\n');
  return `.TH STAPLER 1 "${date}" "stapler ${version}" "User Commands"
.SH NAME
stapler \\- ${roff(top.description)}
.SH SYNOPSIS
.B stapler
.I command
[\\fIoptions\\fR]
.br
.B stapler completion
.IR bash | zsh | fish
.SH DESCRIPTION
${roff(top.description)}.
.SH OPTIONS
${options(top)}
.SH COMMANDS
${sections}
.SH EXIT STATUS
Each command's description names its exit codes; in general 0 is success, 1 a rejected or
missing staple, 2 a usage, input or connection error, and 3 a certificate with no OCSP responder
(check) or an unknown state (status).
.SH ENVIRONMENT
.TP
.B STAPLER_LOG_LEVEL
fatal, error, warn, info, debug, trace or silent (default info).
.TP
.B STAPLER_STATE_DIR
where the daemon keeps its state file and staples.
.SH SEE ALSO
The documentation in the package's docs/ directory, and the example configuration and systemd
units in its examples/ directory.
`;
}
