// Hook programs checked before they are needed: a hook that can never run is found by
// --check-config, not by the first revocation.

import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { InputError } from '../../ocsp/errors.ts';
import { HOOK_EVENTS, type HooksConfig } from './hook-config.ts';

/** One error per hook whose program does not exist or is not executable (a bare name is looked up on PATH). */
export async function checkHookPrograms(hooks: HooksConfig | null, path: string = process.env.PATH ?? ''): Promise<InputError[]> {
  const errors: InputError[] = [];
  for (const event of HOOK_EVENTS) {
    const program = hooks?.commands[event]?.[0];
    if (program === undefined) continue;
    const problem = await programProblem(program, path);
    if (problem) errors.push(new InputError(`config key "hooks.${event}"`, problem));
  }
  return errors;
}

async function programProblem(program: string, path: string): Promise<string | null> {
  if (!program.includes('/')) {
    for (const dir of path.split(delimiter).filter((d) => d !== '')) if ((await executableProblem(join(dir, program))) === null) return null;
    return `program ${program} is not an executable file on PATH${spaceHint(program)}`;
  }
  const problem = await executableProblem(program);
  return problem === null ? null : `program ${program} ${problem}${problem === 'does not exist' ? spaceHint(program) : ''}`;
}

/** null when `file` is an executable regular file, else why not. */
async function executableProblem(file: string): Promise<string | null> {
  try {
    if (!(await stat(file)).isFile()) return 'is not a regular file';
  } catch {
    return 'does not exist';
  }
  try {
    await access(file, constants.X_OK);
    return null;
  } catch {
    return 'is not executable';
  }
}

const spaceHint = (program: string): string =>
  program.includes(' ') ? ': hooks take a program, not a shell line: put arguments in a list ([program, arg, ...])' : '';
