/**
 * Fixed limits of what Pilotlight accepts. They are not options (nothing configures them), so they
 * live here beside the checks that apply them rather than among the defaults in `config/defaults.ts`.
 */
export const LIMITS = {
  /** Longest queue name accepted. */
  maxQueueNameLength: 100,
  /** Largest serialized arguments accepted, in bytes (1 MiB). */
  maxArgsBytes: 1024 * 1024,
} as const;
