// Which of two staples is newer: the latest thisUpdate among its single responses, read with the
// pure core. Bytes that do not parse count as oldest (0): they never replace a readable staple.

import { parseResponse } from '../ocsp/response.ts';

export function thisUpdateOf(der: Uint8Array): number {
  try {
    const responses = parseResponse(der).basic?.responses ?? [];
    return responses.reduce((latest, r) => Math.max(latest, r.thisUpdate), 0);
  } catch {
    return 0;
  }
}

/** The earliest nextUpdate among its single responses, or 0 (unknown) when there is none or it does not parse. */
export function nextUpdateOf(der: Uint8Array): number {
  try {
    const responses = parseResponse(der).basic?.responses ?? [];
    const known = responses.map((r) => r.nextUpdate).filter((t): t is number => t !== null);
    return known.length === responses.length && known.length > 0 ? Math.min(...known) : 0;
  } catch {
    return 0;
  }
}
