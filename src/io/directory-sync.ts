// A folder's fsync, shared: an atomic write must fsync its folder after its rename, or a crash
// can lose the new name. At a start with thousands of writes into one folder, one fsync per
// write was three thread-pool operations each (open, fsync, close). One fsync covers every
// rename done before it starts, so writers that come while one runs share the next.

import { open } from 'node:fs/promises';

/** fsync a folder once (the real one opens it read-only, syncs it and closes it). */
export type FsyncFolder = (dir: string) => Promise<void>;

export interface DirectorySync {
  /** Resolves once an fsync of `dir` that began after this call has ended (rejects with its error). */
  sync(dir: string): Promise<void>;
}

const ignore = (): void => undefined;

export function createDirectorySync(fsyncOnce: FsyncFolder): DirectorySync {
  // Per folder: the fsync that has not begun yet (a caller joins it), and the last one queued.
  const waiting = new Map<string, Promise<void>>();
  const last = new Map<string, Promise<void>>();
  return {
    sync(dir: string): Promise<void> {
      const queued = waiting.get(dir);
      if (queued) return queued;
      const before = last.get(dir) ?? Promise.resolve();
      const run: Promise<void> = before.then(ignore, ignore).then(() => {
        // Begun: a caller from now on may have renamed after it, so it needs the next one.
        waiting.delete(dir);
        return fsyncOnce(dir);
      });
      waiting.set(dir, run);
      last.set(dir, run);
      void run.then(ignore, ignore).then(() => {
        if (last.get(dir) === run) last.delete(dir);
      });
      return run;
    },
  };
}

async function fsyncFolder(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The process's folders, shared by every atomic write. */
export const directorySync: DirectorySync = createDirectorySync(fsyncFolder);
