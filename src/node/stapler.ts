// The public Stapler: the engine, plus attach() for Node's TLS servers. The engine itself knows
// nothing of servers; this face composes the two.

import type { Server as TlsServer } from 'node:tls';
import { defaultLogger, type Logger } from '../engine/logger.ts';
import { Stapler as Engine } from '../engine/stapler.ts';
import type { StaplerOptions } from '../engine/types.ts';
import { attach } from './attach.ts';

export class Stapler extends Engine {
  private readonly logger: Logger;
  private readonly detachers: (() => void)[] = [];

  constructor(options: StaplerOptions = {}) {
    const logger = options.logger ?? defaultLogger();
    super({ ...options, logger });
    this.logger = logger;
  }

  /** Staple on a tls.Server, https.Server or http2 secure server. Attach before listen(). */
  attach(server: TlsServer): this {
    this.detachers.push(attach(this, server, this.logger));
    return this;
  }

  override async close(): Promise<void> {
    for (const detach of this.detachers.splice(0)) detach();
    await super.close();
  }
}
