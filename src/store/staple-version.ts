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
