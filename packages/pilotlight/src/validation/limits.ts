/**
 * Fixed limits of what Pilotlight accepts. They are not options (nothing configures them), so they
 * live here beside the checks that apply them rather than among the defaults in `config/defaults.ts`.
 */
export const LIMITS = {
  /** Longest queue name accepted. */
  maxQueueNameLength: 100,
  /** Largest serialized arguments accepted, in bytes (1 MiB). */
  maxArgsBytes: 1024 * 1024,
  /**
   * Deepest nesting of objects and arrays in an argument (the argument itself is level 1). Deeper
   * data is refused with a `ValidationError` rather than overflowing the stack of the check or of
   * `JSON.stringify`; no real payload comes near it.
   */
  maxArgsDepth: 100,
  /** Longest metadata key, in characters. */
  maxMetadataKeyLength: 200,
  /** Largest metadata value, in UTF-8 bytes (4 KiB): metadata is for ids and tags, not payloads. */
  maxMetadataValueBytes: 4 * 1024,
  /** Largest metadata of a job given by the caller, keys and values, in UTF-8 bytes (16 KiB). */
  maxMetadataBytes: 16 * 1024,
  /**
   * Furthest ahead a job can be scheduled, in ms (100 years of 365.25 days): beyond it is a mistake
   * (a delay in microseconds, a `Number.MAX_SAFE_INTEGER` "never"), and far beyond it is no `Date`.
   */
  maxScheduleAheadMs: 100 * 365.25 * 24 * 60 * 60 * 1000,
  /** Largest serialized result of a handler kept with its job, in bytes (1 MiB, as arguments). */
  maxResultBytes: 1024 * 1024,
  /** Longest concurrency, rate-limit or debounce key, in characters (a key is indexed). */
  maxFlowKeyLength: 200,
  /** Largest `limit` of a concurrency key or queue concurrency limit. */
  maxConcurrencyLimit: 10_000,
  /** Largest `max` (starts per window) of a rate limit. */
  maxRateLimitMax: 1_000_000,
  /**
   * Longest rate-limit window (`per`), in ms: one day. Longer quotas (per month) belong to the
   * application's own accounting; a window is kept by the store as one row per key.
   */
  maxRateLimitPerMs: 24 * 60 * 60 * 1000,
} as const;
