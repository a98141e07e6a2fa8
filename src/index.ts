// Stapler's public API, the package's root (`stapler`): what a library user needs. The rest is
// in subpaths: `stapler/engine` (the engine, for embedders), `stapler/redis` (the fleet store),
// `stapler/metrics` (Prometheus) and `stapler/ocsp` (the protocol core).
export { Stapler } from './node/stapler.ts';
export type { StaplerOptions } from './node/options.ts';
export type { AddOptions } from './engine/engine.ts';
export type { CertificateState, CertificateStatus, ReadyReport, StaplerEvents } from './engine/types.ts';
export type { RefreshSettings } from './engine/policy.ts';
export type { HandshakeCounts } from './metrics/metrics.ts';
// The errors.
export { MustStapleError, ClosedError, type UnstapledMustStaple } from './engine/errors.ts';
export { InputError } from './ocsp/errors.ts';
export { StoreError, StoreTimeout } from './store/store-files.ts';
export { MissingPackageError } from './io/optional-package.ts';
// The stores (a Redis store is in `stapler/redis`).
export type { StapleStore, Lease, StoredCopies } from './store/store.ts';
export { MemoryStore, type MemoryStoreOptions } from './store/memory-store.ts';
export { DirectoryStore, type DirectoryStoreOptions } from './store/directory-store.ts';
export { TieredStore } from './store/tiered-store.ts';
// What the options name: a logger, a clock and a fetcher to replace the defaults.
export type { Logger } from './engine/logger.ts';
export type { Clock, TimerHandle } from './engine/clock.ts';
export type { FailureReason, FetchOutcome, FetchRequest, StapleFetcher } from './fetch/staple-fetcher.ts';
export type { HashName } from './ocsp/signature.ts';
