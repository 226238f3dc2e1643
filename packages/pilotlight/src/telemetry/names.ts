/**
 * Every name Pilotlight's job tracing emits: tracer, span operations, attributes, events. The README's
 * telemetry schema documents the same list.
 */

/** The tracer (OpenTelemetry instrumentation scope; an `ActivitySource` in .NET) of job tracing. */
export const JOB_TRACER_NAME = 'pilotlight';

/** `messaging.system` of every job span. */
export const MESSAGING_SYSTEM = 'pilotlight';

/** What a span does; the first word of its default name (`enqueue TenantService.provisionTenant`). */
export const SpanOperations = {
  /** PRODUCER: a job created `Enqueued` (also a recurring occurrence, a trigger). */
  enqueue: 'enqueue',
  /** PRODUCER: a job created `Scheduled` (delayed). */
  schedule: 'schedule',
  /** PRODUCER: a continuation created `Awaiting`. */
  continue: 'continue',
  /** CONSUMER: one attempt of a job. */
  process: 'process',
  /** INTERNAL: a state change outside any job span (promotion, lease expiry, delete, requeue). */
  transition: 'transition',
} as const;

export type SpanOperation = (typeof SpanOperations)[keyof typeof SpanOperations];

/** OpenTelemetry messaging semantic conventions (stable names). */
export const MessagingAttributes = {
  system: 'messaging.system',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  destinationName: 'messaging.destination.name',
  messageId: 'messaging.message.id',
  clientId: 'messaging.client.id',
} as const;

/** `messaging.operation.type` per operation. */
export const OPERATION_TYPES: Readonly<Record<SpanOperation, 'send' | 'process' | 'settle'>> = {
  enqueue: 'send',
  schedule: 'send',
  continue: 'send',
  process: 'process',
  transition: 'settle',
};

/** `error.type`, from the general semantic conventions. */
export const ERROR_TYPE = 'error.type';

/**
 * Pilotlight's own attributes, under a namespace (`pilotlight` by default; with `hangfire`, a team
 * whose Hangfire services are traced by a job filter of its own with `hangfire.*` tags keeps its
 * queries and dashboards, as the README's attributes section explains).
 */
export function jobAttributes(namespace: string) {
  return {
    jobId: `${namespace}.job.id`,
    jobType: `${namespace}.job.type`,
    jobMethod: `${namespace}.job.method`,
    attempt: `${namespace}.job.attempt`,
    recurringId: `${namespace}.job.recurring_id`,
    deduplicated: `${namespace}.job.deduplicated`,
    cancelled: `${namespace}.job.cancelled`,
    serverName: `${namespace}.server.name`,
    retryCount: `${namespace}.retry.count`,
    queueWaitMs: `${namespace}.queue.wait_ms`,
    stateNew: `${namespace}.state.new`,
    stateOld: `${namespace}.state.old`,
    stateReason: `${namespace}.state.reason`,
    // Flow control, on the creation and attempt spans of a job that has it (ids and keys: not for metrics).
    concurrencyKey: `${namespace}.job.concurrency_key`,
    rateLimitKey: `${namespace}.job.rate_limit_key`,
    debounceKey: `${namespace}.job.debounce_key`,
    batchId: `${namespace}.job.batch_id`,
    /** On the creation span of a debounced job: the waiting job it replaced (now Deleted). */
    replacedId: `${namespace}.job.replaced_id`,
  } as const;
}

export type JobAttributeNames = ReturnType<typeof jobAttributes>;

/** Span event on the creation span of a debounced job that replaced a waiting one (attribute: the replaced job's id). */
export const DEBOUNCED_EVENT = 'Debounced';

/** Name of the span event for a state change: `State Applied: Succeeded`. */
export function stateEventName(state: string): string {
  return `State Applied: ${state}`;
}

/**
 * Keys of job metadata the tracer owns. The W3C trace context of the creating span is stored under
 * the propagator's own keys (`traceparent`, `tracestate`, `baggage`), written once at creation and
 * never changed (retries keep relating to the same creation).
 */
export const PARENTING_METADATA_KEY = 'pilotlight.parenting';
