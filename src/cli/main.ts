#!/usr/bin/env node
// The `stapler` command. Exit codes: 0 acceptable, 1 rejected, 2 usage or input error,
// 3 the certificate has no OCSP responder. A plain `verify` or `check` line runs without
// loading commander (fast-parse.ts); every other line, help and errors included, goes to
// commander (program.ts).

import { InputError } from '../ocsp/errors.ts';
import { logLevelFromEnv } from '../engine/log-level.ts';
import { cliIo, FAST_COMMANDS } from './command-specs.ts';
import { EXIT } from './exit-codes.ts';
import { fastParse } from './fast-parse.ts';

async function main(argv: readonly string[]): Promise<number> {
  try {
    // Refused here too, before any command runs: a typo must not turn into pino's stack trace.
    logLevelFromEnv();
    const spec = FAST_COMMANDS.find((s) => s.name === argv[0]);
    const line = spec && fastParse(spec, argv.slice(1));
    if (spec && line) return await spec.run(line.args, line.opts, cliIo);
    return await (await import('./program.ts')).runProgram(argv);
  } catch (err) {
    if (err instanceof InputError) {
      cliIo.log(`stapler: ${err.message}`);
      return EXIT.usage;
    }
    cliIo.log(`stapler: unexpected error: ${(err as Error).stack ?? String(err)}`);
    return EXIT.usage;
  }
}

process.exitCode = await main(process.argv.slice(2));
