// CLI start-up: `stapler verify` (a real response file) and `stapler check` (a real TLS server
// on 127.0.0.1 that staples) against `node -e 0`, in interleaved rounds in one run, so that the
// machine's noise hits each alike. Reports the median wall time of each and its ratio to
// `node -e 0` (the target is at most 2x). Runs the built CLI (bin/stapler.js over dist/), as an
// install does. Two reference rows show what no CLI can go below: loading node:crypto, which any
// verification needs, and a bare node:tls handshake with the same server, which `check` makes.
// `--compare DIR` also runs `verify` and `check` from another built tree (DIR/bin/stapler.js,
// e.g. a worktree of an older commit), in the same rounds. `--cpu` also reports each command's
// CPU time (Linux `perf stat -e task-clock`), which a busy machine disturbs far less than the
// wall time (the wall times then include perf's own start).
// Usage: npm run bench:cli [-- --rounds N] [-- --quick] [-- --compare DIR] [-- --cpu]

import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { makePki, fullchain } from '../test/support/pki.ts';
import { buildResponse } from '../test/support/responses.ts';

const args = process.argv.slice(2);
const rounds = args.includes('--quick') ? 3 : Number(args[args.indexOf('--rounds') + 1] ?? 0) || 15;
const BIN = new URL('../bin/stapler.js', import.meta.url).pathname;
const compare = args.includes('--compare') ? join(args[args.indexOf('--compare') + 1]!, 'bin', 'stapler.js') : undefined;
const DAY = 86_400_000;

const pki = await makePki({ ocspUrl: 'http://127.0.0.1:9/ocsp' });
const staple = buildResponse({
  cert: pki.leaf,
  issuer: pki.intermediate,
  thisUpdate: new Date(Date.now() - 60_000),
  nextUpdate: new Date(Date.now() + 4 * DAY),
});
const dir = await mkdtemp(join(tmpdir(), 'stapler-bench-cli-'));
const chainFile = join(dir, 'fullchain.pem');
const responseFile = join(dir, 'response.der');
const caFile = join(dir, 'root.pem');
await writeFile(chainFile, fullchain(pki.leaf, pki.intermediate));
await writeFile(responseFile, staple);
await writeFile(caFile, pki.root.pem);

const server = createServer({ cert: fullchain(pki.leaf, pki.intermediate), key: pki.leaf.keyPem }, (socket) => socket.end());
server.on('OCSPRequest', (_cert: Buffer, _issuer: Buffer, done: (err: Error | null, response?: Buffer) => void) => done(null, staple));
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = (server.address() as AddressInfo).port;

// The floor for `check`: the same handshake (SNI, --ca, OCSP requested), and nothing else.
const bareHandshake = `const tls = require('node:tls'); const ca = require('node:fs').readFileSync(${JSON.stringify(caFile)});
const s = tls.connect({ host: '127.0.0.1', port: ${port}, servername: 'leaf.test', ca, requestOCSP: true });
s.on('OCSPResponse', () => {}); s.on('secureConnect', () => { s.getPeerCertificate(true); s.end(); });`;
const verifyArgs = (bin: string): string[] => [bin, 'verify', responseFile, '--cert', chainFile];
const checkArgs = (bin: string): string[] => [bin, 'check', `127.0.0.1:${port}`, '--servername', 'leaf.test', '--ca', caFile];
const commands: Record<string, { argv: string[]; exit: number }> = {
  'node -e 0': { argv: ['-e', '0'], exit: 0 },
  'node -e "require(\'node:crypto\')"': { argv: ['-e', "require('node:crypto')"], exit: 0 },
  'node: a bare TLS handshake': { argv: ['-e', bareHandshake], exit: 0 },
  'stapler --help': { argv: [BIN, '--help'], exit: 0 },
  'stapler verify': { argv: verifyArgs(BIN), exit: 0 },
  'stapler check': { argv: checkArgs(BIN), exit: 0 },
  ...(compare
    ? { 'stapler verify (--compare)': { argv: verifyArgs(compare), exit: 0 }, 'stapler check (--compare)': { argv: checkArgs(compare), exit: 0 } }
    : {}),
};

const cpu = args.includes('--cpu');

/** One run: wall time, and with --cpu the CPU time perf counted (its own start-up is outside it). */
function run(argv: string[]): Promise<{ ms: number; cpuMs: number; code: number; stderr: string }> {
  const started = process.hrtime.bigint();
  const [file, fileArgs] = cpu ? ['perf', ['stat', '-x,', '-e', 'task-clock', process.execPath, ...argv]] : [process.execPath, argv];
  return new Promise((resolve) => {
    execFile(file, fileArgs, { encoding: 'utf8' }, (err, _stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      const cpuMs = Number(/([\d.]+),msec,task-clock/.exec(stderr)?.[1] ?? NaN);
      resolve({ ms: Number(process.hrtime.bigint() - started) / 1e6, cpuMs, code, stderr });
    });
  });
}

const times: Record<string, number[]> = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
const cpuTimes: Record<string, number[]> = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
try {
  for (let r = 0; r < rounds + 1; r++) {
    for (const [name, c] of Object.entries(commands)) {
      const { ms, cpuMs, code, stderr } = await run(c.argv);
      if (code !== c.exit) throw new Error(`${name} exited ${code}: ${stderr}`);
      if (cpu && Number.isNaN(cpuMs)) throw new Error(`--cpu: perf stat printed no task-clock: ${stderr}`);
      if (r > 0) times[name]!.push(ms); // round 0 warms the file cache
      if (r > 0) cpuTimes[name]!.push(cpuMs);
    }
  }
} finally {
  server.close();
  await rm(dir, { recursive: true, force: true });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const base = median(times['node -e 0']!);
const cpuBase = median(cpuTimes['node -e 0']!);
console.log(`CLI start-up, node ${process.version}, ${rounds} interleaved rounds (median wall time${cpu ? ', and median CPU time' : ''})`);
console.log(cpu ? '| command | wall | vs `node -e 0` | CPU | vs `node -e 0` |\n|---|---|---|---|---|' : '| command | median | vs `node -e 0` |\n|---|---|---|');
for (const [name, xs] of Object.entries(times)) {
  const cpuCells = cpu ? ` ${median(cpuTimes[name]!).toFixed(0)} ms | ${(median(cpuTimes[name]!) / cpuBase).toFixed(2)}× |` : '';
  console.log(`| \`${name}\` | ${median(xs).toFixed(0)} ms | ${(median(xs) / base).toFixed(2)}× |${cpuCells}`);
}
