// Errors about inputs the operator gave us: each names the item and the reason, in one line.

/** A bad input (an option, a file, a certificate): names the item and the reason, in one line. */
export class InputError extends Error {
  override readonly name = 'InputError';
  constructor(
    readonly item: string,
    readonly reason: string,
  ) {
    super(`${item}: ${reason}`);
  }
}
