// Waiting for something a real process or real I/O will do (not a timed assertion: the limit
// only turns a hang into a clear failure).

import assert from 'node:assert/strict';

/** Wait until `predicate` holds; on timeout, fail naming `what` and, when given, what `detail` says of the state then. */
export async function waitFor(
  what: string,
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
  detail?: () => string | Promise<string>,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > end) assert.fail(`timed out waiting for: ${what}${detail ? `\n${await detail()}` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
