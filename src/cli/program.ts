// The `stapler` command's definitions (commander): the one source of its help, its man page and
// its shell completions (scripts/man-page.ts, src/cli/completion.ts). Each command's module loads
// when that command runs, so `stapler check` does not load the daemon, pino or undici. `verify`
// and `check` are defined as data in command-specs.ts, which main.ts also parses without
// loading this module (or commander) at all.

import { Command, CommanderError } from 'commander';
import type { DaemonFlags } from './commands/daemon.ts';
import type { fetchCommand } from './commands/fetch.ts';
import type { H2oFetchOptions } from './commands/h2o-fetch.ts';
import { CHECK, cliIo, type CommandSpec, type OptionSpec, VERIFY, VERIFY_FLAGS } from './command-specs.ts';
import { packageVersion } from '../io/package-version.ts';
import { EXIT } from './exit-codes.ts';

type FetchOptions = Parameters<typeof fetchCommand>[0];

const { out, log, now } = cliIo;

function addOptions(cmd: Command, options: readonly OptionSpec[]): Command {
  for (const o of options) {
    if (o.required) cmd.requiredOption(o.flags, o.description, o.defaultValue);
    else cmd.option(o.flags, o.description, o.defaultValue);
  }
  return cmd;
}

/** A command defined as data (command-specs.ts), as a commander command of `program`. */
function addSpec(program: Command, spec: CommandSpec, setExit: (code: number) => void): void {
  const cmd = program.command(spec.name).description(spec.description);
  for (const a of spec.arguments) cmd.argument(a.name, a.description);
  // commander passes the command itself last, after the arguments and the options.
  addOptions(cmd, spec.options).action(async (...params: unknown[]) => {
    const self = params[params.length - 1] as Command;
    setExit(await spec.run(self.processedArgs as string[], self.opts(), cliIo));
  });
}

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('stapler')
    .description(
      'OCSP stapling for TLS servers: a daemon that keeps staples fresh for nginx, HAProxy and others, and tools to fetch, verify, inspect and check staples',
    )
    .version(packageVersion())
    .exitOverride()
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) });

  program
    .command('inspect')
    .description('print a readable dump of an OCSP response (DER file, or - for standard input)')
    .argument('<response>', 'response file (DER), or -')
    .option('--json', 'print JSON')
    .action(async (path: string, opts: { json?: boolean }) => setExit(await (await import('./commands/inspect.ts')).inspectCommand(path, opts, out)));

  addSpec(program, VERIFY, setExit);

  addOptions(
    program
      .command('fetch')
      .description("fetch an OCSP response from the certificate's responders, verify it, and print a JSON verdict")
      .requiredOption('--cert <pem>', 'the certificate with its chain (fullchain.pem)')
      .option('--issuer <pem>', "the issuer's certificate (default: found in --cert's chain)")
      .option('--url <url>', 'ask this responder instead of the AIA URLs (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
      .option('--proxy <url>', 'plain-HTTP proxy, e.g. http://proxy:3128')
      .option('--timeout <seconds>', 'total deadline per responder', '5')
      .option('--sha256', 'use SHA-256 in the CertID (default SHA-1, which responders expect)')
      .option('--nonce', 'send a nonce and require it back (defeats responder caches)')
      .option('--out <file>', 'write the DER response here, only if it is acceptable'),
    VERIFY_FLAGS,
  ).action(async (opts: FetchOptions) => setExit(await (await import('./commands/fetch.ts')).fetchCommand(opts, { out, log, now })));

  addOptions(
    program
      .command('h2o-fetch')
      .description(
        "h2o's ocsp-update-cmd: print the daemon's staple for <certificate> (DER) once verified and valid for as long as h2o may keep it, else exit 75 (docs/servers/h2o.md)",
      )
      .argument('<certificate>', "h2o's certificate-file (the certificate with its chain)")
      .option('--staple-file <template>', "the daemon's staple files: {cert}, {dir}, {name}", '{cert}.ocsp')
      .option('--issuer <pem>', "the issuer's certificate (default: found in the certificate's chain)")
      .option('--interval <seconds>', "h2o's ocsp-update-interval", '14400')
      .option('--max-failures <n>', "h2o's ocsp-max-failures", '3')
      .option('--margin <seconds>', 'extra validity asked for beyond what h2o may hold', '60'),
    VERIFY_FLAGS,
  ).action(async (cert: string, opts: H2oFetchOptions) =>
    setExit(await (await import('./commands/h2o-fetch.ts')).h2oFetchCommand(cert, opts, { writeStaple: (der) => void process.stdout.write(der), log, now })),
  );

  addSpec(program, CHECK, setExit);

  program
    .command('daemon')
    .description('keep staple files fresh for nginx, HAProxy and other servers (runs until SIGTERM or SIGINT)')
    .option('--config <file>', 'YAML configuration (docs/daemon.md); flags override it')
    .option('--check-config', 'only check the configuration, then exit')
    .option('--cert <glob>', 'certificate files, e.g. "/etc/haproxy/certs/*.pem" (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--issuer <pem>', 'issuer certificate for files whose chain lacks it')
    .option('--staple-file <template>', 'where staples go: {cert}, {dir}, {name} (default "{cert}.ocsp")')
    .option('--nginx-include <template>', 'also write an nginx include that turns ssl_stapling on or off, e.g. "{cert}.stapling.conf"')
    .option('--reload <command>', 'run after staple files change (debounced), e.g. "nginx -s reload"')
    .option('--haproxy-socket <path>', "push staples through HAProxy's runtime API (stats socket path or host:port)")
    .option(
      '--state <file>',
      'state file for `stapler status` (default: $STAPLER_STATE_DIR/state.json, else /var/lib/stapler/state.json as root, else ~/.local/state/stapler-daemon/state.json)',
    )
    .option('--store <dir-or-url>', 'staple store directory (default: staples/ beside the state file), or a redis:// URL a fleet shares')
    .option('--listen <[host:]port>', 'serve HTTP on this address (127.0.0.1 unless a host is given)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent (default $STAPLER_LOG_LEVEL, else info)')
    .option('--log-format <format>', 'pretty or json (default: pretty when stdout is a terminal, else json)')
    .action(async (opts: DaemonFlags) => setExit(await (await import('./commands/daemon.ts')).daemonCommand(opts, { out, log })));

  program
    .command('status')
    .description("print the daemon's certificates and staples (exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN)")
    .option('--state <file>', "the daemon's state file (default: the daemon's own default, see `stapler daemon --help`)")
    .option('--json', 'print JSON')
    .option('--all', 'list every certificate (default: the summary and the certificates with a problem)')
    .action(async (opts: { state?: string; json?: boolean; all?: boolean }) =>
      setExit(await (await import('./commands/status.ts')).statusCommand(opts, { out, log })),
    );

  program
    .command('completion')
    .description('print a shell completion script: `source <(stapler completion bash)`, or see the man page for zsh and fish')
    .argument('<shell>', 'bash, zsh or fish')
    .action(async (shell: string) => {
      const { completionScript, SHELLS } = await import('./completion.ts');
      if (!(SHELLS as readonly string[]).includes(shell)) {
        log(`stapler: completion: "${shell}" is not a shell it knows: expected ${SHELLS.join(', ')}`);
        return setExit(2);
      }
      process.stdout.write(completionScript(program, shell as (typeof SHELLS)[number]));
      setExit(0);
    });

  return program;
}

/** Runs `argv` through commander; resolves to the exit code (help and version are 0, a usage error 2). */
export async function runProgram(argv: readonly string[]): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram((c) => (code = c));
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help' ? EXIT.ok : EXIT.usage;
  }
}
