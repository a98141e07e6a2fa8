// What bench/get-path, bench/listener and bench/responder share: a test CA, a Stapler that has
// fetched its staple, a valid GET path for it, and the daemon's OCSP responder (its listener and
// route) over that Stapler, from this checkout or another one (a baseline, side by side in one run).

import type * as ListenerModule from '../../src/daemon/http/listener.ts';
import type * as RouteModule from '../../src/daemon/http/ocsp-route.ts';
import { silentLogger } from '../../src/engine/logger.ts';
import { Stapler } from '../../src/node/stapler.ts';
import { buildRequest, certIdFor } from '../../src/ocsp/request.ts';
import { fullchain, makePki, type TestPki } from '../../test/support/pki.ts';
import { TestResponder } from '../../test/support/responder.ts';

/** A checkout whose responder is measured: this one, and STAPLER_BASELINE's first when set. */
export interface Checkout {
  readonly name: string;
  readonly root: URL;
}

export const THIS_CHECKOUT: Checkout = { name: 'this checkout', root: new URL('../../', import.meta.url) };

/** STAPLER_BASELINE's checkout (when set), then this one. */
export function checkouts(): Checkout[] {
  const baseline = process.env.STAPLER_BASELINE;
  return [...(baseline ? [{ name: `baseline (${baseline})`, root: new URL(`file://${baseline.replace(/\/?$/, '/')}`) }] : []), THIS_CHECKOUT];
}

/** The daemon's responder over the rig's Stapler, listening on 127.0.0.1. */
export interface Responder {
  readonly name: string;
  readonly route: RouteModule.OcspRoute;
  readonly listener: ListenerModule.HttpListener;
  readonly port: number;
  readonly origin: string;
}

export interface ResponderRig {
  readonly pki: TestPki;
  readonly stapler: Stapler;
  /** The staple the CA answered for the leaf. */
  readonly staple: Buffer;
  /** A valid GET for the leaf: its URL-encoded base64 request. */
  readonly path: string;
  /** The daemon's listener and OCSP route from `checkout` (each checkout's own modules). */
  responder(checkout?: Checkout): Promise<Responder>;
  /** Stops every responder made, the Stapler and the CA. */
  close(): Promise<void>;
}

export async function responderRig(): Promise<ResponderRig> {
  const ca = new TestResponder();
  const pki = await makePki({ ocspUrl: await ca.listen() });
  ca.serve(pki);
  const stapler = new Stapler({ store: 'memory', logger: silentLogger });
  await stapler.add(fullchain(pki.leaf, pki.intermediate));
  await stapler.ready({ timeout: 10_000 });
  const staple = stapler.stapleById(stapler.status()[0]!.id);
  if (!staple) throw new Error('bench: no staple from the test CA');
  const made: Responder[] = [];
  return {
    pki,
    stapler,
    staple,
    path: `/${encodeURIComponent(buildRequest(certIdFor(pki.leaf.cert, pki.intermediate.cert)).toString('base64'))}`,
    async responder(checkout = THIS_CHECKOUT) {
      const { HttpListener } = (await import(new URL('src/daemon/http/listener.ts', checkout.root).href)) as typeof ListenerModule;
      const { OcspRoute } = (await import(new URL('src/daemon/http/ocsp-route.ts', checkout.root).href)) as typeof RouteModule;
      const route = new OcspRoute({ lookup: (id) => stapler.lookupCertId(id), log: silentLogger });
      const listener = new HttpListener([route], silentLogger);
      const { port } = await listener.listen({ host: '127.0.0.1', port: 0 });
      const r = { name: checkout.name, route, listener, port, origin: `http://127.0.0.1:${port}` };
      made.push(r);
      return r;
    },
    async close() {
      for (const r of made) await r.listener.close();
      await stapler.close();
      await ca.close();
    },
  };
}
