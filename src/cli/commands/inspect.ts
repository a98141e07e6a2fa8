// stapler inspect: a readable (or JSON) dump of a response, without judging it.

import { DerError } from '../../ocsp/der.ts';
import { InputError } from '../../ocsp/errors.ts';
import { parseResponse } from '../../ocsp/response.ts';
import { responseJson, responseText } from '../describe.ts';
import { EXIT } from '../exit-codes.ts';
import { loadResponseFile } from '../inputs.ts';

export async function inspectCommand(path: string, opts: { json?: boolean }, out: (s: string) => void): Promise<number> {
  const der = await loadResponseFile(path);
  let parsed;
  try {
    parsed = parseResponse(der);
  } catch (err) {
    if (err instanceof DerError) throw new InputError(path === '-' ? 'standard input' : path, `malformed OCSP response: ${err.message}`);
    throw err;
  }
  out(opts.json ? JSON.stringify(responseJson(parsed, der.length), null, 2) : responseText(parsed, der.length));
  return EXIT.ok;
}
