// stapler daemon: keep staple files fresh for nginx, HAProxy and others (see src/daemon/).

import { pino } from 'pino';
import { buildConfig, parseConfig, type DaemonConfig } from '../../daemon/config.ts';
import { Daemon } from '../../daemon/daemon.ts';
import { expandGlob } from '../../daemon/glob.ts';
import { readFileCapped } from '../../io/files.ts';
import { EXIT } from '../exit-codes.ts';

export interface DaemonFlags {
  config?: string;
  checkConfig?: boolean;
  cert?: string[];
  issuer?: string;
  stapleFile?: string;
  nginxInclude?: string;
  reload?: string;
  haproxySocket?: string;
  state?: string;
  store?: string;
  logLevel?: string;
}

/** The configuration from --config, with flags on top. */
export async function loadDaemonConfig(flags: DaemonFlags): Promise<DaemonConfig> {
  const raw: Record<string, unknown> = {};
  const overrides: Record<string, unknown> = {
    certificates: flags.cert,
    issuer: flags.issuer,
    stapleFile: flags.stapleFile,
    nginxInclude: flags.nginxInclude,
    reload: flags.reload === undefined ? undefined : { command: flags.reload },
    haproxy: flags.haproxySocket === undefined ? undefined : { socket: flags.haproxySocket },
    stateFile: flags.state,
    storeDir: flags.store,
    logLevel: flags.logLevel,
  };
  if (flags.config) {
    const text = (await readFileCapped(flags.config, 1024 * 1024)).toString('utf8');
    const fromFile = parseConfig(text, flags.config, process.cwd());
    // Re-check the merge as a whole: flags replace the file's values.
    Object.assign(raw, toRaw(fromFile));
  }
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) raw[k] = v;
  return buildConfig(raw, process.cwd());
}

function toRaw(c: DaemonConfig): Record<string, unknown> {
  return {
    certificates: c.certificates,
    ...(c.issuer ? { issuer: c.issuer } : {}),
    stapleFile: c.stapleFile,
    ...(c.nginxInclude ? { nginxInclude: c.nginxInclude } : {}),
    ...(c.reload ? { reload: c.reload } : {}),
    ...(c.haproxy ? { haproxy: c.haproxy } : {}),
    stateFile: c.stateFile,
    storeDir: c.storeDir,
    rescanMs: c.rescanMs,
    logLevel: c.logLevel,
    ...c.engine,
  };
}

export async function daemonCommand(flags: DaemonFlags, io: { out: (s: string) => void }): Promise<number> {
  const config = await loadDaemonConfig(flags);
  if (flags.checkConfig) {
    const counts = await Promise.all(config.certificates.map(async (g) => `${g}: ${(await expandGlob(g)).length} file(s)`));
    io.out(`configuration OK\n${counts.map((c) => `  ${c}`).join('\n')}\n  staple files: ${config.stapleFile}\n  state: ${config.stateFile}\n  store: ${config.storeDir}`);
    return EXIT.ok;
  }
  const logger = pino({ name: 'stapler', level: config.logLevel });
  const daemon = new Daemon(config, { logger });
  await daemon.start();
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      logger.info({ signal }, 'stopping');
      void daemon.stop().then(resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    process.on('SIGUSR1', () => {
      logger.info({ signal: 'SIGUSR1' }, 'refreshing every certificate now');
      void daemon.rescan().then(() => daemon.refreshAll());
    });
  });
  return EXIT.ok;
}
