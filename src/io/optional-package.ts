// The optional packages (redis, prom-client) load when first used, not when Stapler is imported:
// a library user who needs neither may install without them (`npm install --omit=optional`),
// and one who does gets one line naming the package to install instead of a module stack.

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** An optional package that is needed but not installed. */
export class MissingPackageError extends Error {
  override readonly name = 'MissingPackageError';
  constructor(
    /** The package to install. */
    readonly packageName: string,
    /** What needs it, e.g. "RedisStore". */
    readonly user: string,
  ) {
    super(`${user} needs the optional package "${packageName}", which is not installed: run \`npm install ${packageName}\``);
  }
}

/** Load an optional CommonJS package synchronously; a missing one throws a MissingPackageError. */
export function requireOptional<T>(packageName: string, user: string): T {
  try {
    return require(packageName) as T;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'MODULE_NOT_FOUND' && e.message.includes(`'${packageName}'`)) throw new MissingPackageError(packageName, user);
    throw err;
  }
}
