// Where the embedded default store lives: STAPLER_STORE_DIR, else the XDG state directory.

import { accessSync, constants, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The default store directory, created if need be; null when none is writable. */
export function defaultStoreDir(env: NodeJS.ProcessEnv = process.env): string | null {
  const candidates = [
    env.STAPLER_STORE_DIR,
    env.XDG_STATE_HOME && join(env.XDG_STATE_HOME, 'stapler'),
    safeHome() && join(safeHome()!, '.local', 'state', 'stapler'),
  ];
  for (const dir of candidates) {
    if (!dir) continue;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      accessSync(dir, constants.W_OK);
      return dir;
    } catch {
      continue;
    }
  }
  return null;
}

function safeHome(): string | null {
  try {
    return homedir() || null;
  } catch {
    return null;
  }
}
