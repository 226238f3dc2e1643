/**
 * Every default of the job engine in one place (the task manager's are in `tasks/defaults.ts`).
 * Option types document them with `@default`; the code that resolves options reads them from here.
 * Fixed limits that no option changes (queue name length, payload size) are in `validation/limits.ts`.
 */
export const DEFAULTS = {
  queue: 'default',
  priority: 0,
  retry: { attempts: 10, backoff: 'hangfire' as const },
  worker: {
    queues: ['default'] as readonly string[],
    concurrency: 10,
    /** Jobs claimed beyond `concurrency`, ready to start the moment a slot frees up. */
    prefetch: 0,
    /** How long a claimed job stays invisible to other workers without a heartbeat. */
    leaseDuration: 30_000,
    /** How often a worker renews its leases and records its heartbeat. */
    heartbeatInterval: 5_000,
    /** How often an idle worker looks for work when nothing woke it. */
    pollInterval: 1_000,
    /** How often a worker promotes due jobs, requeues expired leases and fires recurring jobs. */
    maintenanceInterval: 1_000,
    /** How long `stop()` waits for running jobs before aborting them. */
    shutdownTimeout: 10_000,
    /** Workers that missed heartbeats this long are removed from the server list. */
    serverTimeout: 60_000,
    /** How long an attempt's handler may run, when neither the job nor its definition says: no limit. */
    timeout: null as number | null,
    /**
     * Times a job's attempt may be interrupted by a worker's shutdown and handed back without
     * spending the attempt; the next interruption counts it, so a job that hangs until every
     * shutdown cannot loop forever.
     */
    maxShutdownHandBacks: 3,
    /**
     * A handler still running this long after its attempt ended (timed out, deleted, lost) is a
     * zombie: the worker logs it once, at the next heartbeat after that.
     */
    zombieGrace: 1_000,
  },
  retention: {
    /** How long succeeded and deleted jobs are kept; `null` keeps them forever. */
    succeeded: 24 * 60 * 60_000,
    deleted: 24 * 60 * 60_000,
    /** Failed jobs are kept until a person looks at them. */
    failed: null as number | null,
  },
  recurring: {
    timeZone: 'UTC',
    misfire: 'run-once' as const,
    /** With misfire `run-all`: the most missed occurrences fired at once. */
    maxMisfires: 100,
    /** An occurrence fired later than this after its time counts as missed (`skip` drops it). */
    misfireGrace: 60_000,
  },
  metrics: {
    /**
     * How long the store-wide gauges (`pilotlight.jobs`, `pilotlight.queue.lag`, `pilotlight.workers`)
     * reuse one read of the store: every metric reader and every worker of a process collecting
     * within this time shares it, so the store sees at most one read per second per process.
     */
    storeReadCacheMs: 1_000,
    /** A worker whose last heartbeat is older than this counts as gone (`pilotlight.workers`, the dashboard). */
    workerAliveMs: 60_000,
  },
  sqlite: {
    synchronous: 'NORMAL' as const,
    busyTimeout: 5_000,
  },
} as const;
