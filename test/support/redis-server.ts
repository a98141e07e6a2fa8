// Real redis-server processes for the tests, on 127.0.0.1 with a free port, no persistence.
// redis has no `--port 0`: a free port is found by binding a socket first.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, createConnection } from 'node:net';
import { peerSkip } from './peers.ts';

export function redisMissing(): string | null {
  return peerSkip('redis') || null;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

export class RedisServer {
  private child: ChildProcess | null = null;
  private constructor(
    readonly port: number,
    private readonly args: readonly string[],
  ) {}

  /** Start a server; `extra` are more redis-server arguments (e.g. ['--requirepass', 'x']). */
  static async start(extra: readonly string[] = [], port?: number): Promise<RedisServer> {
    const p = port ?? (await freePort());
    const server = new RedisServer(p, ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no', ...extra]);
    await server.run();
    return server;
  }

  /** Start from a configuration file that sets `port` (a Sentinel: extra ['--sentinel']). */
  static async startWithConfig(file: string, extra: readonly string[], port: number): Promise<RedisServer> {
    const server = new RedisServer(port, [file, ...extra]);
    await server.run();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** (Re)start on the same port, empty. */
  async run(): Promise<void> {
    const child = spawn('redis-server', [...this.args], { stdio: ['ignore', 'ignore', 'inherit'] });
    this.child = child;
    const deadline = Date.now() + 10_000;
    while (!(await reachable(this.port))) {
      if (child.exitCode !== null) throw new Error(`redis-server on port ${this.port} exited with ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error(`redis-server on port ${this.port} did not start within 10 s`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Run redis-cli against this server; returns its output. */
  cli(...args: string[]): string {
    const out = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(this.port), ...args], { encoding: 'utf8', timeout: 10_000 });
    if (out.status !== 0) throw new Error(`redis-cli ${args.join(' ')}: ${out.stderr}`);
    return out.stdout.trim();
  }

  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    child.kill('SIGCONT');
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }
}

/** A three-node Redis Cluster (no replicas), made with `redis-cli --cluster create`. */
export async function startCluster(dir: string): Promise<RedisServer[]> {
  const nodes: RedisServer[] = [];
  for (let i = 0; i < 3; i++) nodes.push(await RedisServer.start(['--cluster-enabled', 'yes', '--cluster-config-file', `${dir}/node-${i}.conf`, '--dir', dir]));
  const made = spawnSync('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (made.status !== 0) throw new Error(`redis-cli --cluster create failed: ${made.stderr}`);
  const deadline = Date.now() + 15_000;
  while (!nodes.every((n) => n.cli('CLUSTER', 'INFO').includes('cluster_state:ok'))) {
    if (Date.now() > deadline) throw new Error('the cluster did not become ready within 15 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  return nodes;
}
