#!/usr/bin/env node
// The `stapler` command. Exit codes: 0 acceptable, 1 rejected, 2 usage or input error,
// 3 the certificate has no OCSP responder.

import { CommanderError } from 'commander';
import { InputError } from '../ocsp/errors.ts';
import { logLevelFromEnv } from '../engine/log-level.ts';
import { EXIT } from './exit-codes.ts';
import { buildProgram } from './program.ts';

const log = (s: string): void => void process.stderr.write(`${s}\n`);

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
