// The operations an operator (or the machine) does to a running daemon, picked at random:
// SIGHUP with a real configuration change, SIGUSR1, a certificate renewed in place, one added
// and removed, Redis killed, flushed or restarted, the output folder made unwritable and
// writable again, and fd pressure on the daemon.

import { execFile } from 'node:child_process';
import { unlink } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Issued } from '../../test/support/pki.ts';
import type { Prng } from '../../test/support/prng.ts';
import type { RedisServer } from '../../test/support/redis-server.ts';
import type { SoakCa } from './ca.ts';
import { FD_LIMIT, type ManagedCert, type SoakRig } from './rig.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const run = promisify(execFile);

/** The staple folder writable again (`unwritable` makes it immutable; a run cut short may leave it so). */
export async function outputFolderWritable(dir: string): Promise<void> {
  await run('chattr', ['-i', join(dir, 'out')]);
}

/**
 * From when a staple file could carry a response that has existed since `since`: a response that
 * first came within `leadMs` before, or during, a window when the staple folder was immutable
 * cannot be written until the window ends (null: it has not ended). Servers that read staple
 * files (nginx) are held to it from then on, not before: no daemon can write into an immutable
 * folder, and an older staple file, if still valid, is counted as before.
 */
export function fileDeliverableSince(since: number, unwritable: readonly (readonly [number, number | null])[], leadMs: number): number | null {
  for (const [start, end] of unwritable) if (since >= start - leadMs && (end === null || since < end)) return end;
  return since;
}

export type OperationName = 'sighup' | 'sigusr1' | 'renew' | 'add' | 'remove' | 'unwritable' | 'fd-pressure' | 'redis-kill' | 'redis-flush' | 'redis-restart';

export class Operations {
  readonly counts: Partial<Record<OperationName, number>> = {};
  /** Windows (start, end) during which fd pressure was on: fd samples there are not growth. */
  readonly pressure: [number, number][] = [];
  /** Windows (start, end; null while on) during which the staple folder was immutable. */
  readonly unwritableWindows: [number, number | null][] = [];
  private extras = 0;
  private sighups = 0;

  constructor(
    private readonly rig: SoakRig,
    private readonly ca: SoakCa,
    private readonly prng: Prng,
    private readonly redis: RedisServer | null,
    /** Only these operations (--ops a,b), to chase one failure. */
    private readonly only: readonly OperationName[] | null = null,
  ) {}

  private choices(): readonly OperationName[] {
    if (this.only) return this.only;
    const base: OperationName[] = ['sighup', 'sighup', 'sigusr1', 'renew', 'add', 'remove', 'unwritable', 'fd-pressure'];
    return this.redis ? [...base, 'redis-kill', 'redis-flush', 'redis-restart'] : base;
  }

  /** One operation at random; `started` learns which, as it begins (the soak's timeline). */
  async runOne(started?: (op: OperationName) => void): Promise<OperationName> {
    const op = this.prng.pick(this.choices());
    this.counts[op] = (this.counts[op] ?? 0) + 1;
    started?.(op);
    await this[
      op === 'fd-pressure'
        ? 'fdPressure'
        : op === 'redis-kill'
          ? 'redisKill'
          : op === 'redis-flush'
            ? 'redisFlush'
            : op === 'redis-restart'
              ? 'redisRestart'
              : op
    ]();
    return op;
  }

  /** A real change of engine settings and of the rescan period, then SIGHUP. */
  private async sighup(): Promise<void> {
    const odd = ++this.sighups % 2 === 1;
    await this.rig.writeConfig({ timeoutMs: odd ? 2_000 : 1_500, concurrency: odd ? 4 : 8, rescanMs: odd ? 1_500 : 1_000 });
    this.rig.signal('SIGHUP');
    // Sometimes a storm: several SIGHUPs in a row.
    if (this.prng.next() < 0.3) for (let i = 0; i < 10; i++) this.rig.signal('SIGHUP');
  }

  private async sigusr1(): Promise<void> {
    this.rig.signal('SIGUSR1');
  }

  /** A certificate (not the first: nginx and Apache serve it) renewed in place: new key and serial. */
  private async renew(): Promise<void> {
    const candidates = this.rig.certs.filter((_, i) => i > 0);
    const c: ManagedCert = this.prng.pick(candidates);
    const leaf = await this.rig.leaf(c.name, c.issued.cert.mustStaple);
    this.ca.know(leaf.cert, this.rig.issuer);
    this.serveAll([leaf]);
    c.issued = leaf;
    c.since = Date.now();
    await this.rig.writeCert(c.file, leaf);
  }

  private async add(): Promise<void> {
    const c = await this.rig.addCert(`extra-${++this.extras}.test`);
    this.ca.know(c.issued.cert, this.rig.issuer);
    this.serveAll([]);
  }

  private async remove(): Promise<void> {
    const i = this.rig.certs.findIndex((c) => c.name.startsWith('extra-'));
    if (i < 0) return this.add();
    const [c] = this.rig.certs.splice(i, 1);
    await unlink(c!.file);
  }

  private serveAll(extra: readonly Issued[]): void {
    this.ca.responder.serve(this.rig.pki, [...this.rig.certs.map((c) => c.issued), ...(this.rig.libraryLeaf ? [this.rig.libraryLeaf] : []), ...extra]);
  }

  /**
   * The staple folder made unwritable for a while: immutable (chattr +i), since root ignores
   * permission bits. Its files stay readable, as on a read-only remount or a full disk: servers
   * keep stapling what is there, no newer staple can be written, and one that lapses meanwhile
   * must still be withdrawn on time.
   */
  private async unwritable(): Promise<void> {
    const out = join(this.rig.dir, 'out');
    const window: [number, number | null] = [Date.now(), null];
    this.unwritableWindows.push(window);
    await run('chattr', ['+i', out]);
    try {
      await sleep(5_000 + this.prng.next() * 10_000);
    } finally {
      await outputFolderWritable(this.rig.dir);
      window[1] = Date.now();
    }
  }

  /** More idle connections to the daemon's listener than its fd limit allows, held a while. */
  private async fdPressure(): Promise<void> {
    const start = Date.now();
    const sockets: Socket[] = [];
    for (let i = 0; i < FD_LIMIT + 50; i++) {
      const s = connect({ host: '127.0.0.1', port: this.rig.daemonPort });
      s.on('error', () => undefined);
      sockets.push(s);
    }
    await sleep(5_000 + this.prng.next() * 5_000);
    for (const s of sockets) s.destroy();
    this.pressure.push([start, Date.now() + 5_000]);
  }

  private async redisKill(): Promise<void> {
    await this.redis!.stop();
    await sleep(3_000 + this.prng.next() * 7_000);
    await this.redis!.run();
  }

  private async redisFlush(): Promise<void> {
    this.redis!.cli('FLUSHALL');
  }

  private async redisRestart(): Promise<void> {
    await this.redis!.stop();
    await this.redis!.run();
  }
}
