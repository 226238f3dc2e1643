/**
 * Every name Pilotlight's metrics use: meter, instruments, attributes, attribute values, bucket
 * boundaries. The README's telemetry schema documents the same list.
 *
 * Where the OpenTelemetry messaging semantic conventions define an instrument (status Development),
 * Pilotlight uses it; queue depth and lag have no convention yet (semantic-conventions#792, #2263),
 * so those live under `pilotlight.*`. Attributes are low-cardinality only: queue, job type, state,
 * outcome, error type, recurring id, task type and status; never job ids, task ids or arguments.
 */

/** The meter (instrumentation scope) of every Pilotlight instrument, jobs and tasks. */
export const METER_NAME = 'pilotlight';

/** Instrument names, with their kind and unit in the comment (the README's telemetry schema has the table). */
export const MetricNames = {
  /** Counter `{message}`: jobs created (recurring occurrences and continuations included; deduplicated ones not). */
  sentMessages: 'messaging.client.sent.messages',
  /** Counter `{message}`: attempts started. */
  consumedMessages: 'messaging.client.consumed.messages',
  /** Histogram `s`: how long an attempt ran, handler and filters; `error.type` on attempts that did not succeed. */
  processDuration: 'messaging.process.duration',
  /** Histogram `s`: a worker's store round trips: `claim` (take jobs) and `commit` (record outcomes, and claim the next jobs). */
  operationDuration: 'messaging.client.operation.duration',
  /** ObservableUpDownCounter `{job}`: unfinished jobs (Enqueued, Scheduled, Awaiting, Processing), by queue and state; read from the store. */
  jobs: 'pilotlight.jobs',
  /** ObservableGauge `s`: age of the queue's oldest waiting (Enqueued) job since it became due; 0 when none waits. Read from the store. */
  queueLag: 'pilotlight.queue.lag',
  /** Histogram `s`: from a job becoming due to its attempt starting. */
  queueWait: 'pilotlight.queue.wait',
  /** Counter `{attempt}`: attempts ended, by outcome (`AttemptOutcomes`). */
  attemptOutcomes: 'pilotlight.job.attempts',
  /** ObservableUpDownCounter `{worker}`: workers whose heartbeat is recent, in the whole store. */
  workersAlive: 'pilotlight.workers',
  /** ObservableUpDownCounter `{slot}`: concurrency slots in use by this process's workers (zombies included). */
  workerBusy: 'pilotlight.worker.busy',
  /** ObservableUpDownCounter `{slot}`: concurrency slots of this process's running workers. */
  workerCapacity: 'pilotlight.worker.capacity',
  /** Histogram `s`: how late each recurring occurrence was fired after its scheduled time. */
  recurringLateness: 'pilotlight.recurring.lateness',
  /** UpDownCounter `{task}`: tasks running now, by type. */
  tasksRunning: 'pilotlight.tasks.running',
  /** Histogram `s`: how long a task ran, by type and final status. */
  taskDuration: 'pilotlight.task.duration',
} as const;

export type MetricName = (typeof MetricNames)[keyof typeof MetricNames];

/** Attribute keys of Pilotlight's metrics (fixed: the tracing option `attributeNamespace` renames span attributes only). */
export const MetricAttributes = {
  system: 'messaging.system',
  operationName: 'messaging.operation.name',
  operationType: 'messaging.operation.type',
  /** The queue. */
  destinationName: 'messaging.destination.name',
  errorType: 'error.type',
  jobType: 'pilotlight.job.type',
  /** The state of `pilotlight.jobs`. */
  state: 'pilotlight.job.state',
  /** The outcome of `pilotlight.job.attempts`. */
  outcome: 'pilotlight.job.outcome',
  recurringId: 'pilotlight.job.recurring_id',
  taskType: 'task.type',
  taskStatus: 'task.status',
} as const;

/** `messaging.operation.name` of `messaging.client.operation.duration`. */
export const StoreOperations = {
  /** A claim on its own (an idle worker looking for jobs). */
  claim: 'claim',
  /** Outcomes recorded, with the next jobs claimed in the same transaction when the worker has free slots. */
  commit: 'commit',
} as const;

export type StoreOperation = (typeof StoreOperations)[keyof typeof StoreOperations];

/** `pilotlight.job.outcome` of an ended attempt. */
export const AttemptOutcomes = {
  succeeded: 'succeeded',
  /** Failed for good: no retry left, or an unrecoverable error. */
  failed: 'failed',
  /** Failed, and a retry is scheduled. */
  retried: 'retried',
  /** Ended before its handler finished: the job was deleted or taken from the worker, or handed back at shutdown. */
  cancelled: 'cancelled',
  /** The handler ran past its timeout (then retried or failed: `error.type` is `JobTimeoutError`). */
  timedOut: 'timed_out',
} as const;

export type AttemptOutcome = (typeof AttemptOutcomes)[keyof typeof AttemptOutcomes];

/**
 * Bucket boundaries of every duration histogram, in seconds: from 5 ms to a day, since jobs and
 * tasks run from milliseconds to hours (the SDK's default boundaries stop at 10 s).
 */
export const DURATION_BUCKETS_SECONDS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1_800, 3_600, 7_200, 14_400, 43_200, 86_400,
];
