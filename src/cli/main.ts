#!/usr/bin/env node
// The `stapler` command. Exit codes: 0 acceptable, 1 rejected, 2 usage or input error,
// 3 the certificate has no OCSP responder.

import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { InputError } from '../ocsp/errors.ts';
import { checkCommand, type CheckOptions } from './commands/check.ts';
import { daemonCommand, type DaemonFlags } from './commands/daemon.ts';
import { fetchCommand } from './commands/fetch.ts';
import { statusCommand } from './commands/status.ts';
import { logLevelFromEnv } from '../engine/logger.ts';
import { inspectCommand } from './commands/inspect.ts';
import { verifyCommand } from './commands/verify.ts';
import { EXIT } from './exit-codes.ts';

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

function buildProgram(setExit: (code: number) => void): Command {
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
    .action(async (path: string, opts: { json?: boolean }) => setExit(await inspectCommand(path, opts, out)));

  verifyFlags(
    program
      .command('verify')
      .description('verify an OCSP response for a certificate and print a JSON verdict')
      .argument('<response>', 'response file (DER), or -')
      .requiredOption('--cert <pem>', 'the certificate (PEM or DER); a full chain also supplies the issuer')
      .option('--issuer <pem>', "the issuer's certificate (default: found in --cert's chain)")
      .option('--at <time>', 'verify as of this ISO 8601 time (default: now)'),
  ).action(async (path: string, opts: Parameters<typeof verifyCommand>[1]) => setExit(await verifyCommand(path, opts, out, now)));

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
  ).action(async (opts: Parameters<typeof fetchCommand>[0]) => setExit(await fetchCommand(opts, { out, log, now })));

  program
    .command('check')
    .description("check a live server's stapling as a strict client would (exit 0 valid staple, 1 missing or invalid, 2 connection error)")
    .argument('<host:port>', 'the server')
    .option('--servername <name>', 'SNI name and the name to verify (default: the host)')
    .option('--ca <pem>', 'trust these CA certificates instead of the system store')
    .option('--tls1.2', 'TLS 1.2 only')
    .option('--tls1.3', 'TLS 1.3 only')
    .option('--timeout <seconds>', 'handshake deadline', '10')
    .option('--json', 'print JSON')
    .action(async (target: string, opts: Record<string, unknown>) =>
      setExit(
        await checkCommand(
          target,
          { ...(opts as CheckOptions), tls12: opts['tls1.2'] === true || opts.tls12 === true, tls13: opts['tls1.3'] === true || opts.tls13 === true },
          { out, log, now },
        ),
      ),
    );

  program
    .command('daemon')
    .description('keep staple files fresh for nginx, HAProxy and other servers (runs until SIGTERM or SIGINT)')
    .option('--config <file>', 'YAML configuration (see the README); flags override it')
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
    .action(async (opts: DaemonFlags) => setExit(await daemonCommand(opts, { out, log })));

  program
    .command('status')
    .description("print the daemon's certificates and staples (exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN)")
    .option('--state <file>', "the daemon's state file (default: the daemon's own default, see `stapler daemon --help`)")
    .option('--json', 'print JSON')
    .option('--all', 'list every certificate (default: the summary and the certificates with a problem)')
    .action(async (opts: { state?: string; json?: boolean; all?: boolean }) => setExit(await statusCommand(opts, { out, log })));

  return program;
}

async function main(argv: readonly string[]): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram((c) => (code = c));
  try {
    // Refused here too, before any command runs: a typo must not turn into pino's stack trace.
    logLevelFromEnv();
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help' ? EXIT.ok : EXIT.usage;
    }
    if (err instanceof InputError) {
      log(`stapler: ${err.message}`);
      return EXIT.usage;
    }
    log(`stapler: unexpected error: ${(err as Error).stack ?? String(err)}`);
    return EXIT.usage;
  }
}

process.exitCode = await main(process.argv.slice(2));
