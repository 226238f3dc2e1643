/**
 * Terminology
 * -----------
 * - **Job**: one durable invocation of a handler: a *type* and a *method* (for a class-based
 *   job, `TenantService` + `provisionTenant`; for a function job, the job's name and an empty
 *   method), JSON *arguments*, a *queue*, a *priority* and a *state*. Jobs live in a store and
 *   survive restarts.
 * - **Job definition**: what `defineJob()` returns, or a class whose methods are jobs. Clients
 *   use definitions to enqueue with typed arguments; workers use them to run jobs.
 * - **State**: where a job is in its life (`Enqueued`, `Scheduled`, `Awaiting`, `Processing`,
 *   `Succeeded`, `Failed`, `Deleted`). Every change of state is appended to the job's *history*.
 * - **Attempt**: one execution of a job by a worker. `attempt` counts executions started;
 *   `retryCount` counts the retries scheduled after failed attempts.
 * - **Filter**: an object of optional hooks called around job creation (client filters), job
 *   execution (server filters) and state changes (state filters). Retries, continuations and
 *   tracing are filters.
 * - **Worker** (Hangfire's *server*): a process-local loop that claims due jobs from a store and
 *   runs them, with a *lease* it renews while the job runs. A job whose lease expires (its worker
 *   died) is requeued: delivery is at-least-once.
 * - **Store**: the durable storage behind clients and workers (embedded SQLite by default,
 *   PostgreSQL for several machines), reached only through the narrow `Store` interface.
 * - **Recurring job**: a cron schedule that creates a new job at each occurrence.
 * - **Continuation**: a job that waits (`Awaiting`) until its parent job succeeds.
 * - **Concurrency key**: a string shared by jobs of which at most `limit` may run at once across
 *   every worker (`tenant:42`, limit 1: one job per tenant at a time).
 * - **Rate limit**: at most `max` starts per `per` ms of the jobs sharing a key (or of a queue),
 *   across every worker.
 * - **Debounce key**: a job enqueued while another with the same key still waits replaces it.
 * - **Batch**: jobs created together (or gathered by id) under one batch id; a *batch
 *   continuation* waits (`Awaiting`) until every member has finished (or succeeded).
 * - **Paused queue**: a queue whose waiting jobs no worker starts until it is resumed.
 * - **Result**: what a handler returned, stored as JSON with the `Succeeded` state.
 */

/** The states a job can be in. Mirrors Hangfire's built-in states. */
export const JobStates = {
  /** Waiting in its queue for a worker. */
  Enqueued: 'Enqueued',
  /** Waiting for its due time (a delayed job, or a retry after a failed attempt). */
  Scheduled: 'Scheduled',
  /** A continuation waiting for its parent job to succeed. */
  Awaiting: 'Awaiting',
  /** Claimed by a worker and running. */
  Processing: 'Processing',
  /** Finished successfully. Final. */
  Succeeded: 'Succeeded',
  /** Finished with an error and no retry left. Can be requeued by hand. */
  Failed: 'Failed',
  /** Removed by the user, or by its parent's deletion. Final. */
  Deleted: 'Deleted',
} as const;

export type StateName = (typeof JobStates)[keyof typeof JobStates];

/** States after which a job never runs again unless requeued by hand. */
export const FINISHED_STATES: ReadonlySet<StateName> = new Set(['Succeeded', 'Failed', 'Deleted']);

/** What an error looked like when a job failed (never the error object itself: it must be stored). */
export interface ErrorDetails {
  /** The error's class name (`TypeError`) or `typeof` for a thrown non-Error value. */
  readonly type: string;
  readonly message: string;
  readonly stack?: string;
}

/** A state a job is asked to move to. Filters can replace it during state election. */
export interface StateInput {
  readonly name: StateName;
  /** Why the job moves to this state, in words a person reads in the history. */
  readonly reason?: string;
  /** For `Scheduled`: when the job becomes due. */
  readonly runAt?: Date;
  /** For `Failed` (and a retry's `Scheduled`): the error of the attempt. */
  readonly error?: ErrorDetails;
  /** For `Scheduled`: this is a retry of a failed attempt (increments `retryCount`). */
  readonly retry?: boolean;
}

/** One entry of a job's state history. */
export interface StateRecord extends StateInput {
  /** When the state was applied. */
  readonly at: Date;
  /** For `Processing`: the worker that runs the attempt. */
  readonly serverName?: string;
  /** For `Processing`: the attempt number. */
  readonly attempt?: number;
}

/** Progress a running job reported. */
export interface JobProgress {
  readonly value: number;
  readonly message?: string;
}

/** Retry policy of a job, stored with it so that any worker applies the same one. */
export interface RetryOptions {
  /**
   * How many attempts a job gets in total (1 = never retried).
   * @default 10
   */
  readonly attempts?: number;
  /**
   * Delay before each retry: `'hangfire'` for Hangfire's back-off
   * (`(attempt-1)^4 + 15 + random(30)·attempt` seconds), a fixed number of milliseconds,
   * or one delay per retry in milliseconds (the last repeats).
   * @default 'hangfire'
   */
  readonly backoff?: 'hangfire' | number | readonly number[];
}

/**
 * A job's `retry` as stored with it: its retry policy and, when the job was given one of its own,
 * its `timeout` (ms; `null`: none), which wins over its definition's and its worker's. (The timeout
 * travels in this column so that no store needs another one.)
 */
export interface StoredRetryOptions extends RetryOptions {
  readonly timeout?: number | null;
}

/** What a job runs and where: the part a job, a new job and a recurring job's template share. */
export interface JobCall {
  readonly type: string;
  /** Method of a class-based job; empty for a function job. */
  readonly method: string;
  /** The arguments, serialized as a JSON array. Parsed by the worker when the job runs. */
  readonly argsJson: string;
  readonly queue: string;
  /** Higher runs first. */
  readonly priority: number;
  readonly retry: StoredRetryOptions;
}

/** At most `limit` jobs with this `key` run at once, across every worker and queue. */
export interface ConcurrencyLimit {
  readonly key: string;
  readonly limit: number;
}

/** At most `max` jobs with this `key` start per `per` ms, across every worker and queue. */
export interface RateLimit {
  readonly key: string;
  readonly max: number;
  /** The interval, in ms. */
  readonly per: number;
}

/** What a batch continuation waits for. */
export interface BatchAwait {
  readonly batchId: string;
  /** `'succeeded'`: runs if every member succeeded, else is deleted; `'finished'`: runs once every member is Succeeded, Failed or Deleted. */
  readonly when: 'succeeded' | 'finished';
}

/** A job as the store holds it. */
export interface JobRecord extends JobCall {
  readonly id: string;
  readonly state: StateName;
  readonly stateReason: string | undefined;
  /** When the job is (or was) due. */
  readonly runAt: Date;
  readonly createdAt: Date;
  /** When the current state was applied. */
  readonly stateChangedAt: Date;
  /** Executions started so far (the current one included while `Processing`). */
  readonly attempt: number;
  /** Retries scheduled after failed attempts. */
  readonly retryCount: number;
  /** For a continuation: the job it waits for. */
  readonly parentId: string | undefined;
  /** Whether continuations wait for this job. */
  readonly hasContinuations: boolean;
  /** At most one unfinished job has a given key. */
  readonly dedupKey: string | undefined;
  /**
   * Immutable metadata set by client filters when the job was created (for example the trace
   * context of the code that created it). Never the arguments.
   */
  readonly metadata: Readonly<Record<string, string>>;
  /** While `Processing`: the worker running it and how long its lease lasts. */
  readonly serverName: string | undefined;
  readonly leaseUntil: Date | undefined;
  readonly progress: JobProgress | undefined;
  /** For a recurring occurrence: the recurring job that created it. */
  readonly recurringId: string | undefined;
  /** Its concurrency key and limit, if it has one. */
  readonly concurrency: ConcurrencyLimit | undefined;
  /** Its rate limit, if it has one (a queue's own rate limit is a queue setting, not here). */
  readonly rateLimit: RateLimit | undefined;
  /** While it waits (Enqueued or Scheduled): a job created with the same key replaces it. */
  readonly debounceKey: string | undefined;
  /** The batch it belongs to. */
  readonly batchId: string | undefined;
  /** For a batch continuation: the batch it waits for. */
  readonly awaitsBatch: BatchAwait | undefined;
  /** Once Succeeded: what its handler returned, as JSON; undefined when it returned nothing (`undefined`). */
  readonly resultJson: string | undefined;
}

/**
 * How the span of a job's attempt (or of a task) relates to the span that created it:
 * - `'child'`: nested under it, in the same trace, with a link to it as well (the trace shape the
 *   README's telemetry section shows: one trace from the request to the work it caused);
 * - `'link'`: a new trace with a link to it (the default of the OpenTelemetry messaging semantic
 *   conventions; suits fan-out and long delays);
 * - `'none'`: a new trace, unrelated.
 */
export type Parenting = 'child' | 'link' | 'none';

/** What to do with occurrences a recurring job missed while no worker was running. */
export type MisfirePolicy =
  /** Run one job for all missed occurrences together, then continue on schedule. */
  | 'run-once'
  /** Run one job for every missed occurrence (bounded by `maxMisfires`). */
  | 'run-all'
  /** Drop missed occurrences; wait for the next one. */
  | 'skip';

/** A recurring job as the store holds it: a schedule and the call each occurrence makes. */
export interface RecurringJobRecord extends JobCall {
  readonly id: string;
  readonly cron: string;
  readonly timeZone: string;
  readonly misfire: MisfirePolicy;
  /** The next occurrence not yet fired. */
  readonly nextRunAt: Date;
  readonly lastRunAt: Date | undefined;
  readonly lastJobId: string | undefined;
  readonly createdAt: Date;
}

/** A worker as the store knows it, from its heartbeats. */
export interface ServerRecord {
  readonly name: string;
  readonly queues: readonly string[];
  readonly concurrency: number;
  readonly startedAt: Date;
  readonly heartbeatAt: Date;
}
