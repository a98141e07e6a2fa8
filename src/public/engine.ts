// `stapler/engine`: the stapling engine for embedders who wire their own store, fetcher and
// logger (the `Stapler` of the root is this engine with the defaults wired, plus attach()).
export { StaplingEngine, type AddOptions, type EngineDependencies, type EngineOptions } from '../engine/engine.ts';
export type { CertIdLookup, CertificateState, CertificateStatus, EngineSettings, ReadyReport, StaplerEvents } from '../engine/types.ts';
export { DEFAULT_REFRESH_SETTINGS, type RefreshSettings } from '../engine/policy.ts';
export type { Clock, TimerHandle } from '../engine/clock.ts';
export type { Logger } from '../engine/logger.ts';
export { FAILURE_REASONS, type FailureReason, type FetchOutcome, type FetchRequest, type StapleFetcher } from '../fetch/staple-fetcher.ts';
export { HttpFetcher, type HttpFetcherSettings } from '../fetch/http-fetcher.ts';
export type { StapleStore, Lease } from '../store/store.ts';
