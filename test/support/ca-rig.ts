// The CA most tests need: a test PKI whose leaf names a TestResponder on loopback, and that
// responder serving it. The caller stops it in its own after hook (`after(() => responder.close())`).

import { makePki, type TestPki } from './pki.ts';
import { TestResponder } from './responder.ts';

export interface CaRig {
  readonly pki: TestPki;
  readonly responder: TestResponder;
  /** The responder's URL (the leaf's OCSP URL). */
  readonly url: string;
  stop(): Promise<void>;
}

export async function caRig(): Promise<CaRig> {
  const responder = new TestResponder();
  const url = await responder.listen();
  const pki = await makePki({ ocspUrl: url });
  responder.serve(pki);
  return { pki, responder, url, stop: () => responder.close() };
}
