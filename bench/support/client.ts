// The parent's side of bench/support/handshake-client.ts.

import { fork, type ChildProcess } from 'node:child_process';

export class HandshakeClient {
  private readonly child: ChildProcess;

  constructor() {
    this.child = fork(new URL('./handshake-client.ts', import.meta.url).pathname, [], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  }

  private ask<T>(command: object): Promise<T> {
    return new Promise((resolve, reject) => {
      this.child.once('message', (m: { ok: boolean; result: T; error: string }) => (m.ok ? resolve(m.result) : reject(new Error(m.error))));
      this.child.send(command);
    });
  }

  rate(port: number, ms: number, concurrency: number, tls: '1.2' | '1.3' = '1.3'): Promise<{ handshakes: number; perSecond: number; stapled: number }> {
    return this.ask({ op: 'rate', port, ms, concurrency, tls });
  }

  latency(port: number, n: number, tls: '1.2' | '1.3' = '1.3'): Promise<{ samples: number[]; stapled: number }> {
    return this.ask({ op: 'latency', port, n, tls });
  }

  close(): void {
    this.child.kill();
  }
}

/**
 * The p-th percentile, interpolated between the two nearest ranks (numpy's default): the median
 * of an even count is the mean of the middle two, not the upper one.
 */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const rank = (p / 100) * (s.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.min(s.length - 1, lo + 1);
  return s[lo]! + (s[hi]! - s[lo]!) * (rank - lo);
}
