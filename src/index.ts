// Stapler's public API.
export { Stapler } from './node/stapler.ts';
export { StaplingEngine, type AddOptions, type EngineDependencies, type EngineOptions } from './engine/engine.ts';
export { MustStapleError, ClosedError, type UnstapledMustStaple } from './engine/errors.ts';
export type { CertificateState, CertificateStatus, ReadyReport, StaplerEvents, StaplerOptions } from './engine/types.ts';
export type { Clock, TimerHandle } from './engine/clock.ts';
export { FAILURE_REASONS, type FailureReason, type StapleFetcher, type FetchRequest, type FetchOutcome } from './fetch/staple-fetcher.ts';
export { HttpFetcher, type HttpFetcherSettings } from './fetch/http-fetcher.ts';
export type { Logger } from './engine/logger.ts';
export { DEFAULT_REFRESH_SETTINGS, type RefreshSettings } from './engine/policy.ts';
export type { StapleStore, Lease } from './store/store.ts';
export { MemoryStore, type MemoryStoreOptions } from './store/memory-store.ts';
export { DirectoryStore, type DirectoryStoreOptions } from './store/directory-store.ts';
export { StoreError, StoreTimeout } from './store/store-files.ts';
export { InputError } from './ocsp/errors.ts';
export { DerError } from './ocsp/der.ts';
export { MAX_RESPONSE_BYTES_LIMIT, RESPONSE_CAPS } from './ocsp/response.ts';
export { MAX_PEM_BYTES } from './ocsp/pem.ts';
export * as ocsp from './ocsp/index.ts';
