// The daemon's state file: what `stapler status` reads.

import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../io/files.ts';

export interface FileState {
  readonly file: string;
  readonly stapleFile: string;
  readonly stapleWritten: boolean;
  readonly subject: string | null;
  readonly serial: string | null;
  /** The engine's state for the certificate, or 'unusable' when the file could not be used. */
  readonly state: string;
  readonly certStatus: 'good' | 'revoked' | null;
  readonly mustStaple: boolean;
  readonly thisUpdate: number | null;
  readonly nextUpdate: number | null;
  readonly validUntil: number | null;
  readonly nextRefreshAt: number | null;
  readonly lastError: string | null;
}

export interface DaemonState {
  readonly pid: number;
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly reloads: number;
  readonly files: readonly FileState[];
}

export async function writeState(path: string, state: DaemonState): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, Buffer.from(`${JSON.stringify(state, null, 2)}\n`), 0o644);
}
