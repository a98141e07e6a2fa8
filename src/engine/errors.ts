// The engine's errors: typed, so that an application can tell them apart.

import type { FailureReason } from '../fetch/staple-fetcher.ts';
import type { CertificateState } from './types.ts';

/** A Must-Staple certificate that ready() could not staple. */
export interface UnstapledMustStaple {
  readonly subject: string;
  readonly serial: string;
  readonly state: CertificateState;
  readonly lastError: { readonly reason: FailureReason; readonly message: string } | null;
}

/**
 * ready() rejects with this when a Must-Staple certificate has no staple: clients that enforce
 * Must-Staple (RFC 7633) would refuse every handshake, so serving should not start.
 */
export class MustStapleError extends Error {
  override readonly name = 'MustStapleError';
  constructor(
    readonly why: 'no-responder' | 'timeout',
    readonly certificates: readonly UnstapledMustStaple[],
    detail: string,
  ) {
    const list = certificates.map(
      (c) => `"${c.subject}" (serial ${c.serial}, ${c.state})${c.lastError ? `: last error ${c.lastError.reason}: ${c.lastError.message}` : ''}`,
    );
    super(`Must-Staple certificate ${detail}: ${list.join('; ')}`);
  }
}

/** A call on an engine after close(). */
export class ClosedError extends Error {
  override readonly name = 'ClosedError';
  constructor() {
    super('this Stapler is closed');
  }
}
