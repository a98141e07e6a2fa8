// What the soak runs: certificate files, the daemon as its own process (files and listener, under
// a low fd limit), the library server, and real nginx and Apache where they are installed. Each
// start is in the documented order: the CA, the daemon (ready), then the servers.

import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Certificate } from '../../src/ocsp/certificate.ts';
import { noApache, staplingDirectives, startApache, type Apache } from '../../test/support/apache.ts';
import { freePort } from '../../test/support/openssl.ts';
import { fullchain, issue, type Issued, type TestPki } from '../../test/support/pki.ts';
import { noNginx } from '../../test/support/nginx.ts';
import { startServer, type ServerProcess } from '../../test/support/server-process.ts';
import { probeResponder } from './probes.ts';
import { RELOAD_DEBOUNCE_MS, SOAK_ENGINE } from './settings.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
export const FD_LIMIT = 384;

export interface ManagedCert {
  readonly file: string;
  readonly name: string;
  issued: Issued;
  /** Since when the daemon has had this certificate's current bytes on disk. */
  since: number;
}

export class SoakRig {
  readonly certs: ManagedCert[] = [];
  daemon: ChildProcess | null = null;
  daemonExit: string | null = null;
  daemonPort = 0;
  library: { child: ChildProcess; port: number } | null = null;
  nginx: (ServerProcess & { port: number; conf: string }) | null = null;
  apache: (Apache & { port: number }) | null = null;
  private log: WriteStream | null = null;
  config: Record<string, unknown> = {};

  constructor(
    readonly dir: string,
    readonly pki: TestPki,
    private readonly ocspUrl: string,
    private readonly redisUrl: string | null,
  ) {}

  get issuer(): Certificate {
    return this.pki.intermediate.cert;
  }

  /** A new leaf for `name` (a renewal keeps the name and gets a new key and serial). */
  async leaf(name: string, mustStaple = false): Promise<Issued> {
    return issue({ name, issuer: this.pki.intermediate, ocspUrls: [this.ocspUrl], mustStaple });
  }

  async writeCert(file: string, leaf: Issued): Promise<void> {
    // Written whole under another name and renamed, as certbot and friends do.
    await writeFile(`${file}.tmp`, fullchain(leaf, this.pki.intermediate) + leaf.keyPem);
    await rename(`${file}.tmp`, file);
  }

  async addCert(name: string, mustStaple = false): Promise<ManagedCert> {
    const file = join(this.dir, 'certs', `${name}.pem`);
    const c: ManagedCert = { file, name, issued: await this.leaf(name, mustStaple), since: Date.now() };
    await this.writeCert(file, c.issued);
    this.certs.push(c);
    return c;
  }

  writeConfig(changes: Record<string, unknown> = {}): Promise<void> {
    this.config = {
      certificates: [join(this.dir, 'certs', '*.pem')],
      stapleFile: join(this.dir, 'out', '{name}.der'),
      nginxInclude: '{cert}.stapling.conf',
      reload: { command: `nginx -p ${this.dir} -c ${join(this.dir, 'nginx.conf')} -s reload 2>/dev/null || true`, debounceMs: RELOAD_DEBOUNCE_MS },
      stateFile: join(this.dir, 'state.json'),
      storeDir: join(this.dir, 'store'),
      ...(this.redisUrl ? { store: this.redisUrl } : {}),
      listen: `127.0.0.1:${this.daemonPort}`,
      rescanMs: 1_000,
      logFormat: 'json',
      logLevel: 'info',
      ...SOAK_ENGINE,
      ...changes,
    };
    return writeFile(join(this.dir, 'stapler.yaml'), stringify(this.config));
  }

  async startDaemon(): Promise<void> {
    this.daemonPort = await freePort();
    await mkdir(join(this.dir, 'out'), { recursive: true });
    await this.writeConfig();
    this.log = createWriteStream(join(this.dir, 'daemon.log'));
    const cmd = `ulimit -n ${FD_LIMIT} && exec "${process.execPath}" --import tsx "${join(ROOT, 'src/cli/main.ts')}" daemon --config "${join(this.dir, 'stapler.yaml')}"`;
    const child = spawn('bash', ['-c', cmd], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(this.log, { end: false });
    child.stderr.pipe(this.log, { end: false });
    child.once('exit', (code, signal) => (this.daemonExit = `exit ${code ?? signal}`));
    this.daemon = child;
    // The documented start order: the servers start once the daemon has answered for the first
    // certificate (the CA is good at start).
    const first = this.certs[0]!;
    const end = Date.now() + 60_000;
    for (;;) {
      if (this.daemonExit) throw new Error(`the daemon ${this.daemonExit} at start:\n${await this.daemonLog(30)}`);
      const a = await probeResponder(this.daemonPort, first.issued.cert, this.issuer, 2_000);
      if (a.kind === 'staple' && a.verdict.ok) return;
      if (Date.now() > end) throw new Error(`the daemon did not staple within 60 s:\n${await this.daemonLog(30)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  signal(sig: NodeJS.Signals): void {
    this.daemon?.kill(sig);
  }

  async daemonLog(lines: number): Promise<string> {
    const text = await readFile(join(this.dir, 'daemon.log'), 'utf8').catch(() => '');
    return text.trim().split('\n').slice(-lines).join('\n');
  }

  async startLibrary(): Promise<void> {
    const pem = join(this.dir, 'library.pem');
    const leaf = await this.leaf('library.test');
    this.libraryLeaf = leaf;
    await writeFile(pem, fullchain(leaf, this.pki.intermediate) + leaf.keyPem);
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/soak/library-server.ts'), join(this.dir, 'library-store'), pem], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /"port":(\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`the library server exited with ${code}`)));
    });
    this.library = { child, port };
  }
  libraryLeaf: Issued | null = null;

  /** nginx serving every initial certificate by name, each with the daemon's include. */
  async startNginx(): Promise<string | null> {
    if (noNginx) return noNginx;
    const port = await freePort();
    const blocks = this.certs
      .map((c) => `server_name ${c.name};\n    ssl_certificate ${c.file};\n    ssl_certificate_key ${c.file};\n    include ${c.file}.stapling.conf;`)
      .map((b, i) =>
        i === 0
          ? b.replace('server_name', 'listen 127.0.0.1:PORT ssl default_server;\n    server_name')
          : b.replace('server_name', 'listen 127.0.0.1:PORT ssl;\n    server_name'),
      );
    // One server block per certificate (test/support/nginx.ts writes one), chosen by SNI.
    const conf = join(this.dir, 'nginx.conf');
    await mkdir(join(this.dir, 'tmp'), { recursive: true });
    await writeFile(
      conf,
      `worker_processes 1;
pid ${this.dir}/nginx.pid;
error_log ${this.dir}/nginx.log notice;
daemon off;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${this.dir}/tmp; proxy_temp_path ${this.dir}/tmp; fastcgi_temp_path ${this.dir}/tmp; uwsgi_temp_path ${this.dir}/tmp; scgi_temp_path ${this.dir}/tmp;
  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_session_cache off;
  ssl_session_tickets off;
${blocks.map((b) => `  server {\n    ${b.replaceAll('PORT', String(port))}\n    location / { return 200 "ok\\n"; }\n  }`).join('\n')}
}
`,
    );
    const server = await startServer('nginx', ['-p', this.dir, '-c', conf], /start worker process/, join(this.dir, 'nginx.log'));
    this.nginx = { ...server, port, conf };
    return null;
  }

  /** Apache in responder mode for the first certificate, pointed at the daemon as the docs say. */
  async startApache(): Promise<string | null> {
    if (noApache) return noApache;
    const port = await freePort();
    const dir = join(this.dir, 'apache');
    await mkdir(dir, { recursive: true });
    const stapling = staplingDirectives({ responderUrl: `http://127.0.0.1:${this.daemonPort}/` });
    const server = await startApache({ dir, port, certFile: this.certs[0]!.file, stapling });
    this.apache = { ...server, port };
    return null;
  }

  async stop(): Promise<void> {
    await this.apache?.stop();
    await this.nginx?.stop();
    if (this.library) {
      const exited = new Promise((r) => this.library!.child.once('exit', r));
      this.library.child.kill('SIGTERM');
      await exited;
    }
    if (this.daemon && !this.daemonExit) {
      const exited = new Promise((r) => this.daemon!.once('exit', r));
      this.daemon.kill('SIGTERM');
      const killer = setTimeout(() => this.daemon!.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    }
    this.log?.end();
  }

  /** The daemon's RSS (KiB) and open fds, read from /proc (null when not on Linux or gone). */
  async daemonResources(): Promise<{ rssKiB: number; fds: number } | null> {
    const pid = this.daemon?.pid;
    if (!pid || this.daemonExit || !existsSync(`/proc/${pid}`)) return null;
    try {
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      const fds = (await readdir(`/proc/${pid}/fd`)).length;
      return { rssKiB, fds };
    } catch {
      return null;
    }
  }
}
