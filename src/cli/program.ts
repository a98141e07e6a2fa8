// The `stapler` command's definitions (commander): the one source of its help, its man page and
// its shell completions (scripts/man-page.ts, src/cli/completion.ts). Each command's module loads
// when that command runs, so `stapler check` does not load the daemon, pino or undici.

import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import type { CheckOptions } from './commands/check.ts';
import type { DaemonFlags } from './commands/daemon.ts';
import type { fetchCommand } from './commands/fetch.ts';
import type { H2oFetchOptions } from './commands/h2o-fetch.ts';
import type { verifyCommand } from './commands/verify.ts';

type VerifyOptions = Parameters<typeof verifyCommand>[1];
type FetchOptions = Parameters<typeof fetchCommand>[0];

const out = (s: string): void => void process.stdout.write(`${s}\n`);
const log = (s: string): void => void process.stderr.write(`${s}\n`);
const now = (): number => Date.now();

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function verifyFlags(cmd: Command): Command {
  return cmd
    .option('--skew <seconds>', 'clock skew allowed for thisUpdate in the future', '300')
    .option('--max-age <seconds>', 'lifetime of a response that has no nextUpdate', '3600')
    .option('--allow-sha1', 'accept SHA-1 signatures (refused by default)');
}

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('stapler')
    .description(
      'OCSP stapling for TLS servers: a daemon that keeps staples fresh for nginx, HAProxy and others, and tools to fetch, verify, inspect and check staples',
    )
    .version(version())
    .exitOverride()
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) });

  program
    .command('inspect')
    .description('print a readable dump of an OCSP response (DER file, or - for standard input)')
    .argument('<response>', 'response file (DER), or -')
    .option('--json', 'print JSON')
    .action(async (path: string, opts: { json?: boolean }) => setExit(await (await import('./commands/inspect.ts')).inspectCommand(path, opts, out)));

  verifyFlags(
    program
      .command('verify')
      .description('verify an OCSP response for a certificate and print a JSON verdict')
      .argument('<response>', 'response file (DER), or -')
      .requiredOption('--cert <pem>', 'the certificate (PEM or DER); a full chain also supplies the issuer')
      .option('--issuer <pem>', "the issuer's certificate (default: found in --cert's chain)")
      .option('--at <time>', 'verify as of this ISO 8601 time (default: now)'),
  ).action(async (path: string, opts: VerifyOptions) => setExit(await (await import('./commands/verify.ts')).verifyCommand(path, opts, out, now)));

  verifyFlags(
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
  ).action(async (opts: FetchOptions) => setExit(await (await import('./commands/fetch.ts')).fetchCommand(opts, { out, log, now })));

  verifyFlags(
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
  ).action(async (cert: string, opts: H2oFetchOptions) =>
    setExit(await (await import('./commands/h2o-fetch.ts')).h2oFetchCommand(cert, opts, { writeStaple: (der) => void process.stdout.write(der), log, now })),
  );

  program
    .command('check')
    .description(
      "check a live server's stapling as a strict client would (exit 0 valid staple, 1 missing, invalid or revoked, 2 connection, TLS or usage error, 3 no staple and no OCSP responder to staple from)",
    )
    .argument('<host:port>', 'the server')
    .option('--servername <name>', 'SNI name and the name to verify (default: the host)')
    .option('--ca <pem>', 'trust these CA certificates instead of the system store')
    .option('--tls1.2', 'TLS 1.2 only')
    .option('--tls1.3', 'TLS 1.3 only')
    .option('--timeout <seconds>', 'handshake deadline', '10')
    .option('--json', 'print JSON (as --format json)')
    .option('--format <format>', "text, json, or prometheus (the metrics the daemon's /probe answers)", 'text')
    .action(async (target: string, opts: Record<string, unknown>) =>
      setExit(
        await (
          await import('./commands/check.ts')
        ).checkCommand(
          target,
          { ...(opts as CheckOptions), tls12: opts['tls1.2'] === true || opts.tls12 === true, tls13: opts['tls1.3'] === true || opts.tls13 === true },
          { out, log, now },
        ),
      ),
    );

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
