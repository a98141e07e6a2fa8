// The `hooks` configuration: commands (argv, never a shell line) run on alerts, and a webhook.

export const HOOK_EVENTS = ['revoked', 'expired', 'failureStreak', 'mustStapleAtRisk'] as const;
export type HookEvent = (typeof HOOK_EVENTS)[number];

export interface HooksConfig {
  /** argv per event: the program, then its first arguments (the event and the certificate follow). */
  readonly commands: Readonly<Partial<Record<HookEvent, readonly string[]>>>;
  /** failureStreak fires when this many refreshes in a row have failed. */
  readonly failureStreak: number;
  /** A hook still running after this is killed (SIGKILL). */
  readonly timeoutMs: number;
  /** Hooks running at once; more wait (up to MAX_QUEUED_HOOKS, then they are dropped and logged). */
  readonly concurrency: number;
  /** An http(s) URL that receives every alert as JSON (POST), or null. */
  readonly webhook: string | null;
}

export const DEFAULT_HOOKS: HooksConfig = { commands: {}, failureStreak: 3, timeoutMs: 30_000, concurrency: 4, webhook: null };

/** The `hooks` section, checked, with the defaults filled in. */
export function hooksOf(h: Record<string, unknown>): HooksConfig {
  return {
    commands: Object.fromEntries(HOOK_EVENTS.filter((e) => h[e] !== undefined).map((e) => [e, h[e] as string[]])),
    failureStreak: (h.failureStreakThreshold as number | undefined) ?? DEFAULT_HOOKS.failureStreak,
    timeoutMs: (h.timeoutMs as number | undefined) ?? DEFAULT_HOOKS.timeoutMs,
    concurrency: (h.concurrency as number | undefined) ?? DEFAULT_HOOKS.concurrency,
    webhook: (h.webhook as string | undefined) ?? null,
  };
}
