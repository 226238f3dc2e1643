/**
 * Every default of the task manager. Option types document them with `@default`; the option
 * resolvers (`manager-options.ts`, `tracing-options.ts`) and `shutdown()` are the only code that reads this module.
 */
export const TASK_DEFAULTS = {
  /** Finished tasks kept for `get()` and `list()`: the newest `count`, none older than `age` ms. */
  keepFinished: { count: 1_000, age: 60 * 60_000 },
  /** How long `shutdown()` waits for running tasks before aborting them. */
  shutdownTimeout: 10_000,
  /** After aborting them, how long `shutdown()` waits for tasks to settle (at most its timeout). */
  abortGrace: 1_000,
  /** Highest `concurrency` accepted, overall and per type. */
  maxConcurrency: 10_000,
  /** Longest task type and task name accepted. */
  maxNameLength: 200,
  tracing: {
    /** Shortest time between two `task.progress` events of one span, in ms. */
    progressEventInterval: 1_000,
    /**
     * Most `task.progress` events on one span. The SDK keeps 128 events per span by default and drops
     * the OLDEST beyond that (it would drop `task.started`): this leaves room for the lifecycle events.
     */
    maxProgressEvents: 100,
  },
} as const;
