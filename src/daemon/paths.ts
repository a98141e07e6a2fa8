// Where the daemon keeps its state and store by default. One rule, used by `stapler daemon`
// and by `stapler status`, so that status reads the file this user's daemon writes:
// $STAPLER_STATE_DIR, else /var/lib/stapler for root, else the XDG state directory.

import { homedir } from 'node:os';
import { join } from 'node:path';

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env, uid: number | undefined = process.getuid?.()): string {
  if (env.STAPLER_STATE_DIR) return env.STAPLER_STATE_DIR;
  if (uid === 0) return '/var/lib/stapler';
  const base = env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(base, 'stapler-daemon');
}
