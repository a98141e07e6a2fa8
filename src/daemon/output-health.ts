// Whether each output of each certificate file was last written: the staple file, the nginx
// include, the HAProxy push and the reload command. A failed output is state, not a log line:
// it is kept (with its error and since when) until a write succeeds, logged once when it
// fails and once when it works again, and shown by /healthz, /status.json and `stapler status`.

import type { Logger } from '../engine/logger.ts';

export type OutputKind = 'staple-file' | 'nginx-include' | 'haproxy-push' | 'reload-command';

export interface OutputHealth {
  readonly kind: OutputKind;
  /** The file, socket or command. */
  readonly target: string;
  readonly ok: boolean;
  readonly error: string | null;
  /** Since when (epoch ms) it has been ok, or failing. */
  readonly since: number;
}

const WHAT: Record<OutputKind, string> = {
  'staple-file': 'the staple file',
  'nginx-include': 'the nginx include',
  'haproxy-push': 'the staple to HAProxy',
  'reload-command': 'the reload command',
};

/** One file's outputs, by kind. */
export class OutputHealthBook {
  private readonly byKind = new Map<OutputKind, OutputHealth>();

  constructor(
    private readonly log: Logger,
    private readonly now: () => number,
    private readonly file: string,
  ) {}

  ok(kind: OutputKind, target: string): void {
    const was = this.byKind.get(kind);
    if (was?.ok && was.target === target) return;
    if (was && !was.ok) this.log.info({ file: this.file, target }, `${WHAT[kind]} works again`);
    this.byKind.set(kind, { kind, target, ok: true, error: null, since: this.now() });
  }

  failed(kind: OutputKind, target: string, error: string): void {
    const was = this.byKind.get(kind);
    if (was && !was.ok && was.target === target) {
      if (was.error !== error) this.byKind.set(kind, { ...was, error });
      return;
    }
    const verb = kind === 'reload-command' ? 'cannot run' : kind === 'haproxy-push' ? 'cannot push' : 'cannot write';
    this.log.error({ file: this.file, target, err: error }, `${verb} ${WHAT[kind]}: ${error} (retrying with backoff; logged again when it works)`);
    this.byKind.set(kind, { kind, target, ok: false, error, since: this.now() });
  }

  /** Forget an output that no longer applies (no HAProxy configured now, say). */
  drop(kind: OutputKind): void {
    this.byKind.delete(kind);
  }

  list(): readonly OutputHealth[] {
    return [...this.byKind.values()];
  }

  get failing(): boolean {
    for (const h of this.byKind.values()) if (!h.ok) return true;
    return false;
  }
}
