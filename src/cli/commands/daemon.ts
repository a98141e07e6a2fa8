// stapler daemon: keep staple files fresh for nginx, HAProxy and others (see src/daemon/).

import { buildConfig, parseYaml, type DaemonConfig } from '../../daemon/config.ts';
import { checkConfigFiles } from '../../daemon/check-config.ts';
import { logLevelFromEnv, pinoLogger, type Logger } from '../../engine/logger.ts';
import { combinedError } from '../../engine/options.ts';
import { readFileCapped } from '../../io/files.ts';
import { InputError } from '../../ocsp/errors.ts';
import { isRedisUrl } from '../../store/redis-options.ts';
import { EXIT } from '../exit-codes.ts';
import { checkHookPrograms } from '../../daemon/alerts/hook-programs.ts';
import { formatAddress } from '../../daemon/http/listen-address.ts';
import { DEFAULT_HOOKS } from '../../daemon/alerts/hook-config.ts';
import { assembleDaemon } from '../../daemon/assemble.ts';
import { chooseLogFormat, prettyDestination } from '../pretty-log.ts';

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
  listen?: string;
  logLevel?: string;
  logFormat?: string;
}

/** The configuration from --config, with flags on top; every problem of both in one error. */
export async function loadDaemonConfig(flags: DaemonFlags): Promise<DaemonConfig> {
  if (!flags.config && !flags.cert) throw new InputError('stapler daemon', 'needs --config <file> or --cert <glob> (see stapler daemon --help)');
  // The parsed object itself, not a copy: Object.assign would drop a "__proto__" key (through
  // the setter) that the check must report as unknown.
  const raw: Record<string, unknown> = flags.config
    ? parseYaml((await readFileCapped(flags.config, 1024 * 1024, { regularFileOnly: true })).toString('utf8'), flags.config)
    : {};
  const overrides: Record<string, unknown> = {
    certificates: flags.cert,
    issuer: flags.issuer,
    stapleFile: flags.stapleFile,
    nginxInclude: flags.nginxInclude,
    reload: flags.reload === undefined ? undefined : { command: flags.reload },
    haproxy: flags.haproxySocket === undefined ? undefined : { socket: flags.haproxySocket },
    stateFile: flags.state,
    // --store: a directory, or the fleet's Redis (over the default directory).
    ...(flags.store !== undefined && isRedisUrl(flags.store) ? { store: flags.store } : { storeDir: flags.store }),
    listen: flags.listen,
    logLevel: flags.logLevel,
    logFormat: flags.logFormat,
  };
  // Flags replace the file's values.
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) raw[k] = v;
  // The environment's level applies unless the file or a flag sets one.
  if (raw.logLevel === undefined && process.env.STAPLER_LOG_LEVEL) raw.logLevel = logLevelFromEnv();
  return buildConfig(raw, process.cwd());
}

export async function daemonCommand(flags: DaemonFlags, io: { out: (s: string) => void; log: (s: string) => void }): Promise<number> {
  const config = await loadDaemonConfig(flags);
  if (flags.checkConfig) {
    const report = await checkConfigFiles(config);
    for (const w of report.warnings) io.log(`stapler: warning: ${w}`);
    if (report.errors.length > 0) throw combinedError('configuration', report.errors);
    io.out(
      [
        `configuration OK (nothing was written: the daemon writes staple files and includes when it runs)`,
        ...config.certificates.map((g) => `  certificates: ${g}`),
        `  ${report.files} certificate file(s) now`,
        `  staple files: ${config.stapleFile ?? 'none (stapleFile: false: the responder only)'}`,
        ...(config.nginxInclude ? [`  nginx includes: ${config.nginxInclude}`] : []),
        `  state: ${config.stateFile}`,
        ...(config.listen ? [`  listen: ${formatAddress(config.listen)}`] : []),
        `  store: ${config.storeDir}${config.store ? ` under ${config.store.description}` : ''}`,
      ].join('\n'),
    );
    return EXIT.ok;
  }
  const logger = pinoLogger(config.logLevel, chooseLogFormat(config.logFormat, Boolean(process.stdout.isTTY)) === 'pretty' ? prettyDestination() : undefined);
  // The daemon and its listener, watched by metrics and alerts.
  const { service, alerts } = assembleDaemon(config, logger);
  const daemon = service.daemon;
  let reloading: Promise<void> = Promise.resolve();
  const reconfigure = async (log: Logger): Promise<void> => {
    let next: DaemonConfig;
    try {
      next = await loadDaemonConfig(flags);
    } catch (err) {
      const message = err instanceof InputError ? err.message : String(err);
      log.error({ signal: 'SIGHUP' }, `configuration refused, the running one stays: ${message}`);
      await service.reloadRefused();
      return;
    }
    alerts.configure(next.hooks ?? DEFAULT_HOOKS);
    await logUnrunnableHooks(next, log);
    const changes = await service.reconfigure(next);
    logger.level = next.logLevel;
    log.info(
      { signal: 'SIGHUP', changed: changes },
      changes.length > 0 ? `configuration reloaded: ${changes.join(', ')} changed` : 'configuration reloaded: nothing changed',
    );
  };
  // The handlers go in before the start: a signal that comes while the first scan runs (a
  // staple may already be written) must not hit Node's defaults (SIGUSR1 opens the inspector,
  // SIGHUP ends the process).
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      logger.info({ signal }, 'stopping');
      void reloading.then(() => service.stop()).then(resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    process.on('SIGUSR1', () => {
      logger.info({ signal: 'SIGUSR1' }, 'refreshing every certificate now');
      void daemon.rescan().then(() => daemon.refreshAll());
    });
    process.on('SIGHUP', () => {
      logger.info({ signal: 'SIGHUP' }, 'reloading the configuration');
      reloading = reloading
        .then(() => reconfigure(logger))
        .catch((err: unknown) => logger.error({ signal: 'SIGHUP' }, `configuration reload failed: ${String(err)}`));
    });
  });
  await logUnrunnableHooks(config, logger);
  try {
    await service.start();
  } catch (err) {
    // The listener's address cannot be had (in use, not allowed): nothing has started yet.
    logger.error({ err: err instanceof Error ? err.message : String(err) }, 'cannot start');
    await service.stop();
    return EXIT.usage;
  }
  await stopped;
  return EXIT.ok;
}

/** A hook that cannot run is found now, not when the alert it is for fires (the daemon still starts). */
async function logUnrunnableHooks(config: DaemonConfig, log: Logger): Promise<void> {
  for (const problem of await checkHookPrograms(config.hooks)) log.error({ key: problem.item }, `alert hook cannot run: ${problem.reason}`);
}
