// Helpers to run the openssl binary: a real `openssl ocsp` responder for interop tests.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { hasPeer, LIBFAKETIME } from './peers.ts';

export function opensslAvailable(): boolean {
  return hasPeer('openssl');
}

export function openssl(args: string[], cwd: string, stdin?: Buffer): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile('openssl', args, { cwd, encoding: 'utf8', timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 99) : 0, stdout, stderr });
    });
    child.stdin?.end(stdin);
  });
}

/** A free TCP port on 127.0.0.1 (there is a small race until the caller binds it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface OpensslResponder {
  readonly url: string;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Start `openssl ocsp` as a responder. It cannot be told which address to bind (only -port),
 * so it listens on all interfaces; the tests talk to it on 127.0.0.1 only.
 */
export async function startOpensslResponder(
  opts: {
    cwd: string;
    index: string;
    ca: string;
    rsigner: string;
    rkey: string;
    port?: number;
    /** Responses valid for this many minutes (`-nmin`) instead of a day. */
    minutes?: number;
    /** Run it with libfaketime at this offset (`-50s`): its responses are dated that far back. */
    clockOffset?: string;
  },
  attempt = 1,
): Promise<OpensslResponder> {
  const port = opts.port ?? (await freePort());
  const validity = opts.minutes === undefined ? ['-ndays', '1'] : ['-nmin', String(opts.minutes)];
  const args = ['ocsp', '-index', opts.index, '-port', String(port), '-CA', opts.ca, '-rsigner', opts.rsigner, '-rkey', opts.rkey, ...validity, '-ignore_err'];
  // LD_PRELOAD rather than the faketime command, which forks: the pid stays openssl's, to stop or kill.
  const env = opts.clockOffset === undefined ? process.env : { ...process.env, LD_PRELOAD: LIBFAKETIME, FAKETIME: opts.clockOffset };
  const child = spawn('openssl', args, {
    cwd: opts.cwd,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  // Wait for its own "ready" line: probing the port with an empty connection wedges it.
  let stderr = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no ready line within 10 s')), 10_000);
      child.stderr?.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('waiting for OCSP client connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`exited with ${code}`));
      });
    });
  } catch (err) {
    child.kill('SIGKILL');
    // A port found free on 127.0.0.1 can be taken before openssl binds it (on every interface): another one.
    if (opts.port === undefined && attempt < 3 && stderr.includes('Address already in use')) return startOpensslResponder(opts, attempt + 1);
    throw new Error(`openssl ocsp did not start: ${(err as Error).message}\n${stderr}`, { cause: err });
  }
  return {
    url: `http://127.0.0.1:${port}/`,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(); // exited, or killed by a signal
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
