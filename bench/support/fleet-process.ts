// Drives a fleet member process (fleet-member.ts) over its JSON-lines protocol.

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

const MEMBER = new URL('./fleet-member.ts', import.meta.url).pathname;

export interface MemberEvent {
  readonly event: string;
  readonly [field: string]: unknown;
}

export class FleetMember {
  private readonly child: ChildProcess;
  private readonly events: MemberEvent[] = [];
  private waiters: Array<() => void> = [];

  constructor(redisUrl: string, storeDir: string, chainsFile: string, pollMs = 30_000, commandTimeoutMs = 3_000) {
    this.child = spawn(process.execPath, ['--import', 'tsx', MEMBER, redisUrl, storeDir, chainsFile, String(pollMs), String(commandTimeoutMs)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.events.push(JSON.parse(line) as MemberEvent);
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.child.once('exit', () => {
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  send(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  /** The next event named `name` (consumed), within `timeoutMs`. */
  async next(name: string, timeoutMs = 60_000): Promise<MemberEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.events.findIndex((e) => e.event === name);
      if (i >= 0) return this.events.splice(i, 1)[0]!;
      if (this.child.exitCode !== null) throw new Error(`fleet member exited with ${this.child.exitCode} before "${name}"`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`fleet member: no "${name}" within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
