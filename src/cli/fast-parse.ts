// Parsing a command line without commander, for the plain cases only: positional arguments and
// long options (`--name value`, `--name=value`, `--flag`), each option at most once. Anything
// else (help, version, a short or unknown option, a repeat, a missing value or argument, `--`)
// gives undefined, and main.ts hands the whole line to commander, which answers it (or prints
// its error) as it always has. What this accepts it parses exactly as commander would
// (test/cli/fast-parse.test.ts compares the two), so the fast path changes no behaviour.

import type { CommandSpec, OptionSpec } from './command-specs.ts';

/** A command line as commander would hand it to the action: the arguments, and `opts()`. */
export interface ParsedLine {
  readonly args: string[];
  readonly opts: Record<string, string | boolean>;
}

interface OptionShape {
  readonly key: string;
  readonly takesValue: boolean;
  readonly required: boolean;
  readonly defaultValue: string | undefined;
}

/** commander's attribute name for a long option: `--max-age` is `maxAge`, `--tls1.2` is `tls1.2`. */
export function attributeName(long: string): string {
  return long
    .slice(2)
    .split('-')
    .reduce((name, word) => name + word[0]!.toUpperCase() + word.slice(1));
}

/** The option's long name and shape, or undefined for a kind this parser leaves to commander. */
function shapeOf(option: OptionSpec): [string, OptionShape] | undefined {
  const m = /^(--[A-Za-z0-9][A-Za-z0-9.]*(?:-[A-Za-z0-9.]+)*)(?: <[^<>]+>)?$/.exec(option.flags);
  if (!m || m[1]!.startsWith('--no-')) return undefined;
  const takesValue = option.flags.includes(' <');
  return [m[1]!, { key: attributeName(m[1]!), takesValue, required: option.required === true, defaultValue: option.defaultValue }];
}

/** `argv` (the words after the command's name) parsed for `spec`, or undefined when commander should parse it. */
export function fastParse(spec: CommandSpec, argv: readonly string[]): ParsedLine | undefined {
  const options = new Map<string, OptionShape>();
  for (const option of spec.options) {
    const shape = shapeOf(option);
    if (!shape) return undefined;
    options.set(...shape);
  }
  if (spec.arguments.some((a) => !/^<[^<>]+>$/.test(a.name))) return undefined;
  const args: string[] = [];
  const opts: Record<string, string | boolean> = {};
  const seen = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '-' || !word.startsWith('-')) {
      args.push(word);
      continue;
    }
    if (!word.startsWith('--') || word === '--') return undefined;
    const eq = word.indexOf('=');
    const name = eq < 0 ? word : word.slice(0, eq);
    const shape = options.get(name);
    if (!shape || seen.has(name)) return undefined;
    seen.add(name);
    if (!shape.takesValue) {
      if (eq >= 0) return undefined;
      opts[shape.key] = true;
      continue;
    }
    const value = eq >= 0 ? word.slice(eq + 1) : argv[++i];
    if (value === undefined || (eq < 0 && value.startsWith('-'))) return undefined;
    opts[shape.key] = value;
  }
  if (args.length !== spec.arguments.length) return undefined;
  for (const shape of options.values()) {
    if (Object.hasOwn(opts, shape.key)) continue;
    if (shape.required) return undefined;
    if (shape.defaultValue !== undefined) opts[shape.key] = shape.defaultValue;
  }
  return { args, opts };
}
