// The definitions of `stapler verify` and `stapler check` as plain data, with no commander in
// sight: program.ts builds their commander commands (help, man page, completions) from these,
// and main.ts parses the common command lines of these two with fast-parse.ts, so that a
// monitoring check run every minute loads neither commander nor the other commands.

import type { CheckOptions } from './commands/check.ts';
import type { VerifyOptions } from './commands/verify.ts';

/** One option, as commander's `.option(flags, description, default)` or `.requiredOption` takes it. */
export interface OptionSpec {
  readonly flags: string;
  readonly description: string;
  readonly defaultValue?: string;
  readonly required?: boolean;
}

/** One positional argument, as commander's `.argument(name, description)` takes it. */
export interface ArgumentSpec {
  readonly name: string;
  readonly description: string;
}

/** Where a command writes, and its clock. */
export interface CliIo {
  readonly out: (s: string) => void;
  readonly log: (s: string) => void;
  readonly now: () => number;
}

/** A command: its help, its arguments and options, and what it runs (with commander's `opts()` shape). */
export interface CommandSpec {
  readonly name: string;
  readonly description: string;
  readonly arguments: readonly ArgumentSpec[];
  readonly options: readonly OptionSpec[];
  /** Runs the command; resolves to its exit code. */
  readonly run: (args: readonly string[], opts: Readonly<Record<string, unknown>>, io: CliIo) => Promise<number>;
}

export const cliIo: CliIo = {
  out: (s) => void process.stdout.write(`${s}\n`),
  log: (s) => void process.stderr.write(`${s}\n`),
  now: () => Date.now(),
};

/** The verification settings `verify` and `fetch` share. */
export const VERIFY_FLAGS: readonly OptionSpec[] = [
  { flags: '--skew <seconds>', description: 'clock skew allowed for thisUpdate in the future', defaultValue: '300' },
  { flags: '--max-age <seconds>', description: 'lifetime of a response that has no nextUpdate', defaultValue: '3600' },
  { flags: '--allow-sha1', description: 'accept SHA-1 signatures (refused by default)' },
];

export const VERIFY: CommandSpec = {
  name: 'verify',
  description: 'verify an OCSP response for a certificate and print a JSON verdict',
  arguments: [{ name: '<response>', description: 'response file (DER), or -' }],
  options: [
    { flags: '--cert <pem>', description: 'the certificate (PEM or DER); a full chain also supplies the issuer', required: true },
    { flags: '--issuer <pem>', description: "the issuer's certificate (default: found in --cert's chain)" },
    { flags: '--at <time>', description: 'verify as of this ISO 8601 time (default: now)' },
    ...VERIFY_FLAGS,
  ],
  run: async ([path], opts, io) => (await import('./commands/verify.ts')).verifyCommand(path!, opts as unknown as VerifyOptions, io.out, io.now),
};

export const CHECK: CommandSpec = {
  name: 'check',
  description:
    "check a live server's stapling as a strict client would (exit 0 valid staple, 1 missing, invalid or revoked, 2 connection, TLS or usage error, 3 no staple and no OCSP responder to staple from)",
  arguments: [{ name: '<host:port>', description: 'the server' }],
  options: [
    { flags: '--servername <name>', description: 'SNI name and the name to verify (default: the host)' },
    { flags: '--ca <pem>', description: 'trust these CA certificates instead of the system store' },
    { flags: '--tls1.2', description: 'TLS 1.2 only' },
    { flags: '--tls1.3', description: 'TLS 1.3 only' },
    { flags: '--timeout <seconds>', description: 'handshake deadline', defaultValue: '10' },
    { flags: '--json', description: 'print JSON (as --format json)' },
    { flags: '--format <format>', description: "text, json, or prometheus (the metrics the daemon's /probe answers)", defaultValue: 'text' },
  ],
  run: async ([target], opts, io) =>
    (await import('./commands/check.ts')).checkCommand(
      target!,
      { ...(opts as CheckOptions), tls12: opts['tls1.2'] === true || opts.tls12 === true, tls13: opts['tls1.3'] === true || opts.tls13 === true },
      io,
    ),
};

/** The commands main.ts tries to run without commander. */
export const FAST_COMMANDS: readonly CommandSpec[] = [VERIFY, CHECK];
