// The public Stapler: the engine with the default wiring (a directory store, the HTTP fetcher,
// pino), plus attach() for Node's TLS servers. The engine itself knows nothing of servers.

import type { Server as TlsServer } from 'node:tls';
import { StaplingEngine } from '../engine/engine.ts';
import { defaultLogger } from '../engine/logger.ts';
import { validateOptions } from '../engine/options.ts';
import type { StaplerOptions } from '../engine/types.ts';
import { httpFetcherFor, resolveStore } from '../wiring/defaults.ts';
import { attach } from './attach.ts';

export class Stapler extends StaplingEngine {
  private readonly detachers: (() => void)[] = [];

  constructor(options: StaplerOptions = {}) {
    // Checked before anything is built from them.
    validateOptions(options);
    const logger = options.logger ?? defaultLogger();
    super({ ...options, logger, store: resolveStore(options.store, logger, options.clock), fetcher: options.fetcher ?? httpFetcherFor(options) });
  }

  /** Staple on a tls.Server, https.Server or http2 secure server. Attach before listen(). */
  attach(server: TlsServer): this {
    this.detachers.push(attach(this, server, this.log));
    return this;
  }

  override async close(): Promise<void> {
    for (const detach of this.detachers.splice(0)) detach();
    await super.close();
  }
}
