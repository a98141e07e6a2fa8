// The output file templates of the daemon's configuration: the staple file (or none, for a
// responder-only daemon) and the nginx include, each checked, and the outputs that need files.

import { InputError } from '../ocsp/errors.ts';
import { describeValue } from '../engine/options.ts';
import { templateProblem } from './template.ts';

/** The staple file and include templates from checked settings; problems are added to `errors`. */
export function outputTemplates(
  c: Record<string, unknown>,
  outputs: { haproxy: object | undefined; reload: object | undefined },
  errors: InputError[],
): { stapleFile: string | null; nginxInclude: string | null } {
  const stapleFile = c.stapleFile === false ? null : ((c.stapleFile as string | undefined) ?? '{cert}.ocsp');
  const nginxInclude = (c.nginxInclude as string | undefined) ?? null;
  if (stapleFile === null) errors.push(...filesOffProblems({ nginxInclude, ...outputs }));
  for (const [key, template] of [
    ['stapleFile', stapleFile],
    ['nginxInclude', nginxInclude],
  ] as const) {
    const why = template === null ? null : templateProblem(template);
    if (why) errors.push(new InputError(`config key "${key}"`, `${describeValue(template)} is not valid: ${why}`));
  }
  if (nginxInclude !== null && nginxInclude === stapleFile)
    errors.push(new InputError('config key "nginxInclude"', 'is the same template as stapleFile: each needs its own file'));
  return { stapleFile, nginxInclude };
}

/** With `stapleFile: false` nothing is written: the outputs that need staple files are refused, each named. */
function filesOffProblems(c: { nginxInclude: string | null; haproxy: object | undefined; reload: object | undefined }): InputError[] {
  const why = {
    nginxInclude: 'the include names a staple file',
    haproxy: 'HAProxy loads its staples from the files',
    reload: 'no file changes for a server to reload',
  };
  return (['nginxInclude', 'haproxy', 'reload'] as const)
    .filter((k) => c[k] !== null && c[k] !== undefined)
    .map((k) => new InputError(`config key "${k}"`, `cannot be used with stapleFile: false (no staple files are written): ${why[k]}`));
}
