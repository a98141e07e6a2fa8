// Stapler's public API.
export { Stapler } from './node/stapler.ts';
export type { AddOptions } from './engine/stapler.ts';
export type { CertificateState, CertificateStatus, ReadyReport, StaplerEvents, StaplerOptions } from './engine/types.ts';
export type { Clock, TimerHandle } from './engine/clock.ts';
export type { StapleFetcher, FetchRequest, FetchOutcome } from './engine/fetcher.ts';
export type { Logger } from './engine/logger.ts';
export { DEFAULT_REFRESH_SETTINGS, type RefreshSettings } from './engine/policy.ts';
export type { StapleStore, Lease } from './store/store.ts';
export { MemoryStore } from './store/memory-store.ts';
export { DirectoryStore } from './store/directory-store.ts';
export * as ocsp from './ocsp/index.ts';
