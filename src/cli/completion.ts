// `stapler completion bash|zsh|fish`: a completion script made from the program's definitions.

import type { Command } from 'commander';
import { commandTree, type CommandInfo } from './command-tree.ts';

/** The shells a completion script is made for. */
export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

const longs = (c: CommandInfo): string[] => c.options.flatMap((o) => (o.long ? [o.long] : [])).concat('--help');

function bash(commands: CommandInfo[]): string {
  const cases = commands.map((c) => `    ${c.name}) opts="${longs(c).join(' ')}" ;;`).join('\n');
  return `# bash completion for stapler (made by \`stapler completion bash\`)
_stapler() {
  local cur=\${COMP_WORDS[COMP_CWORD]} cmd=\${COMP_WORDS[1]} opts
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${commands.map((c) => c.name).join(' ')} --help --version" -- "$cur"))
    return
  fi
  case "$cmd" in
${cases}
    *) opts="" ;;
  esac
  if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "$opts" -- "$cur")); else COMPREPLY=($(compgen -f -- "$cur")); fi
}
complete -o filenames -F _stapler stapler
`;
}

const quote = (s: string): string => s.replace(/'/g, `'\\''`);

function zsh(commands: CommandInfo[]): string {
  const subcommands = commands.map((c) => `    '${c.name}:${quote(c.description).replace(/:/g, '\\:')}'`).join('\n');
  const cases = commands
    .map((c) => {
      const specs = c.options.map((o) => `'${o.long ?? o.short}[${quote(o.description).replace(/[[\]]/g, '')}]${o.takesValue ? ':value:_files' : ''}'`);
      return `    ${c.name}) _arguments ${[...specs, "'*:file:_files'"].join(' ')} ;;`;
    })
    .join('\n');
  return `#compdef stapler
# zsh completion for stapler (made by \`stapler completion zsh\`)
_stapler() {
  local -a subcommands
  subcommands=(
${subcommands}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' subcommands
    return
  fi
  case $words[2] in
${cases}
  esac
}
compdef _stapler stapler
`;
}

function fish(commands: CommandInfo[]): string {
  const lines = [`# fish completion for stapler (made by \`stapler completion fish\`)`, 'complete -c stapler -f'];
  for (const c of commands) lines.push(`complete -c stapler -n __fish_use_subcommand -a ${c.name} -d '${quote(c.description)}'`);
  for (const c of commands) {
    for (const o of c.options) {
      if (!o.long) continue;
      lines.push(
        `complete -c stapler -n '__fish_seen_subcommand_from ${c.name}' -l ${o.long.replace(/^--/, '')}${o.takesValue ? ' -r -F' : ''} -d '${quote(o.description)}'`,
      );
    }
  }
  return lines.join('\n') + '\n';
}

/** The completion script for `shell`, for the commands `program` defines. */
export function completionScript(program: Command, shell: Shell): string {
  const { commands } = commandTree(program);
  const visible = commands.filter((c) => c.name !== 'help');
  return shell === 'bash' ? bash(visible) : shell === 'zsh' ? zsh(visible) : fish(visible);
}
