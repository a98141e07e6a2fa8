// A reserve of file descriptors for the operations that must not fail for lack of one: the
// withdrawal of a lapsing staple (the include "off", the staple file's removal) and the reload
// command that makes the server drop it. Under fd pressure (a flood of connections to the
// listener, a leak elsewhere) every new descriptor fails with EMFILE; the reserve holds a few
// descriptors on /dev/null from the start, and when a protected operation fails with EMFILE or
// ENFILE it closes as many as the operation needs and runs it again at once (again while some are
// left), then takes them back (libuv does the same for accept()). No more are freed than needed:
// a descriptor freed is open to anyone. The run again takes its descriptors synchronously, before
// the event loop turns: under a flood the listener's accept is ready on every turn, and it took
// the freed descriptor before a thread-pool open() could (CI saw a withdrawal 5 s late so). With
// the reserve spent, the failure stands, and its caller's own retry comes later.

import { closeSync, openSync } from 'node:fs';

/** Descriptors held: enough for the largest need below, and a second try of a file write. */
export const FD_RESERVE_SIZE = 16;

/**
 * Descriptors each protected operation needs free at once. A spawn needs ten (measured with
 * Node 20: three pipes, its exec check, and the child's own moves before exec), and a failed
 * spawn holds a few of them until the event loop turns.
 */
export const FD_NEEDS = { fileWrite: 1, spawn: 12 } as const;

export const isFdExhaustion = (err: unknown): boolean => {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'EMFILE' || code === 'ENFILE';
};

export class FdReserve {
  private readonly held: number[] = [];
  /** Protected operations running on the freed room: the reserve is taken back when none is. */
  private borrowers = 0;

  constructor(private readonly size: number = FD_RESERVE_SIZE) {}

  /** Descriptors held now. */
  get count(): number {
    return this.held.length;
  }

  /** Top the reserve up to its size (as far as descriptors can be had now; the next use tries again). */
  take(): void {
    while (this.borrowers === 0 && this.held.length < this.size) {
      try {
        this.held.push(openSync('/dev/null', 'r'));
      } catch {
        return;
      }
    }
  }

  /**
   * Run `op`; while it fails for lack of descriptors, free `need` more of the reserve and run
   * `again` at once; then take the reserve back. `again` must take its descriptors before it
   * returns (a synchronous write; a spawn, whose pipes and fork are synchronous), or the freed
   * room is gone by the time it asks.
   */
  async withRoom<T>(op: () => Promise<T>, need: number = FD_NEEDS.fileWrite, again: () => T | Promise<T> = op): Promise<T> {
    this.borrowers++;
    try {
      let run: () => T | Promise<T> = op;
      for (;;) {
        try {
          return await run();
        } catch (err) {
          if (this.held.length === 0 || !isFdExhaustion(err)) throw err;
          for (const fd of this.held.splice(-need)) closeSync(fd);
          run = again;
        }
      }
    } finally {
      this.borrowers--;
      this.take();
    }
  }

  /** Give every descriptor back (the process is done with protected operations). */
  release(): void {
    for (const fd of this.held.splice(0)) closeSync(fd);
  }
}

/** The process's reserve: descriptors are per process, so every daemon part shares one. */
export const processFdReserve = new FdReserve();
