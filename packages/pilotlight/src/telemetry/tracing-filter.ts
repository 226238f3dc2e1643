import {
  context as otelContext,
  diag,
  INVALID_SPAN_CONTEXT,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type {
  ApplyStateContext,
  CreatedContext,
  CreatingContext,
  JobFilter,
  PerformedContext,
  PendingJob,
  PerformingContext,
} from '../filters/filter.ts';
import { jobDisplayName } from '../jobs/define-job.ts';
import type { JobRecord, Parenting } from '../types.ts';
import { toErrorDetails } from '../util/errors.ts';
import {
  DEBOUNCED_EVENT,
  ERROR_TYPE,
  JOB_TRACER_NAME,
  jobAttributes,
  MESSAGING_SYSTEM,
  MessagingAttributes as M,
  OPERATION_TYPES,
  PARENTING_METADATA_KEY,
  SpanOperations,
  stateEventName,
  type JobAttributeNames,
  type SpanOperation,
} from './names.ts';
import type { ResolvedTracingOptions, TracedJob, TracePhase } from './tracing-options.ts';
import { PARENTING_MODES } from './tracing-options.ts';

/** What `#flowAttributes` reads, of a pending or a stored job. */
type FlowFields = Pick<PendingJob, 'concurrency' | 'rateLimit' | 'debounceKey' | 'batchId'> | JobRecord;

/** `State Applied: <state>`, built once per state name. */
const EVENT_NAMES = new Map<string, string>();
function eventName(state: string): string {
  let name = EVENT_NAMES.get(state);
  if (name === undefined) EVENT_NAMES.set(state, (name = stateEventName(state)));
  return name;
}

/** Where the span of the current operation (a creation, an attempt) is kept in its `items` bag. */
const SPAN = Symbol('pilotlight.span');

const metadataGetter = {
  keys: (carrier: Readonly<Record<string, string>>) => Object.keys(carrier),
  get: (carrier: Readonly<Record<string, string>>, key: string) => carrier[key],
};

/**
 * Job tracing, as a filter on Pilotlight's public filter API (as `OpenTelemetry.Instrumentation.Hangfire`
 * is a Hangfire job filter): a PRODUCER span for each job creation (its W3C context stored in the
 * job's metadata), a CONSUMER span for each attempt that continues the creator's trace, state changes
 * as span events, failures as exceptions and ERROR status, and a short INTERNAL span for a state
 * change outside both. Uses `@opentelemetry/api` only: without a registered SDK, spans are
 * non-recording and cost almost nothing.
 */
export class TracingFilter implements JobFilter {
  /** Outside the built-in filters' order range, so state events see the final elected state. */
  readonly order = -1_000;
  readonly #options: ResolvedTracingOptions;
  readonly #attributes: JobAttributeNames;
  #tracer: Tracer | undefined;

  constructor(options: ResolvedTracingOptions) {
    this.#options = options;
    this.#attributes = jobAttributes(options.attributeNamespace);
  }

  onCreating(context: CreatingContext): void {
    const { job } = context;
    const view: TracedJob = { id: undefined, ...job };
    if (!this.#traced(view)) return;
    const operation =
      job.initialState.name === 'Scheduled'
        ? SpanOperations.schedule
        : job.initialState.name === 'Awaiting'
          ? SpanOperations.continue
          : SpanOperations.enqueue;
    const a = this.#attributes;
    // One object, filled in place: spreads of temporaries cost allocations and slow copies on the hot path.
    const attributes = this.#messaging(operation, job.queue);
    attributes[a.jobType] = job.type;
    if (job.method) attributes[a.jobMethod] = job.method;
    if (job.recurringId !== undefined) attributes[a.recurringId] = job.recurringId;
    this.#flowAttributes(attributes, job);
    // A recurring occurrence fired by a worker starts a trace of its own, whatever the worker's context.
    const parent = job.createdBy === 'schedule' ? ROOT_CONTEXT : otelContext.active();
    const span = this.#tracer!.startSpan(this.#name(view, operation), { kind: SpanKind.PRODUCER, attributes }, parent);
    context.items.set(SPAN, span);
    propagation.inject(trace.setSpan(parent, span), context.metadata);
    this.#enrich(span, view, 'create');
  }

  onCreated(context: CreatedContext): void {
    const span = context.items.get(SPAN) as Span | undefined;
    if (!span) return;
    try {
      if (context.jobId !== undefined) span.setAttributes({ [M.messageId]: context.jobId, [this.#attributes.jobId]: context.jobId });
      if (context.replacedId !== undefined) {
        span.setAttribute(this.#attributes.replacedId, context.replacedId);
        span.addEvent(DEBOUNCED_EVENT, { [this.#attributes.replacedId]: context.replacedId });
      }
      if (context.error !== undefined) this.#fail(span, context.error);
      else if (!context.created) span.setAttribute(this.#attributes.deduplicated, true);
    } finally {
      span.end();
    }
  }

  onStateApplied(context: ApplyStateContext): void {
    const { job, newState, oldState } = context;
    if (newState.name === 'Processing') this.#startAttempt(context);
    let span = context.items.get(SPAN) as Span | undefined;
    const standalone = !span;
    if (standalone) {
      const view = tracedJob(job);
      if (!this.#traced(view)) return;
      span = this.#startFromCreation(
        job,
        view,
        SpanOperations.transition,
        SpanKind.INTERNAL,
        this.#jobAttributes(job, SpanOperations.transition),
        newState.at,
      );
    }
    try {
      if (span!.isRecording()) {
        const a = this.#attributes;
        const attributes: Attributes = { [a.stateNew]: newState.name };
        if (oldState !== undefined) attributes[a.stateOld] = oldState;
        if (newState.reason !== undefined) attributes[a.stateReason] = newState.reason;
        span!.addEvent(eventName(newState.name), attributes, newState.at);
        if (standalone) span!.setAttributes({ [a.stateNew]: newState.name, ...(oldState !== undefined && { [a.stateOld]: oldState }) });
      }
    } finally {
      if (standalone) span!.end();
    }
  }

  aroundPerform(context: PerformingContext, perform: () => Promise<unknown>): Promise<unknown> {
    const span = context.items.get(SPAN) as Span | undefined;
    // Nothing to propagate from the no-op API's span: skip the context switch.
    if (!span || span.spanContext() === INVALID_SPAN_CONTEXT) return perform();
    // The handler's own spans (database, HTTP, ...) nest under the attempt's span.
    return otelContext.with(trace.setSpan(otelContext.active(), span), perform);
  }

  onPerformed(context: PerformedContext): void {
    const span = context.items.get(SPAN) as Span | undefined;
    if (!span) return;
    try {
      if (context.cancelled) {
        const reason = (context.signal.reason as Error | undefined)?.message ?? 'cancelled';
        span.setAttribute(this.#attributes.cancelled, true);
        span.setAttribute(ERROR_TYPE, 'cancelled');
        span.setStatus({ code: SpanStatusCode.ERROR, message: `Job cancelled: ${reason}` });
      } else if (context.failed) {
        this.#fail(span, context.error);
      }
    } finally {
      span.end();
    }
  }

  /** Opens the CONSUMER span of an attempt; its Processing event follows in `onStateApplied`. */
  #startAttempt(context: ApplyStateContext): void {
    const { job } = context;
    const view = tracedJob(job);
    if (!this.#traced(view)) return;
    const a = this.#attributes;
    const serverName = context.serverName ?? job.serverName ?? '';
    // The attempt starts when the job was claimed: its Processing event and the wait for a free slot fall inside.
    const attributes = this.#jobAttributes(job, SpanOperations.process);
    attributes[M.clientId] = serverName;
    attributes[a.serverName] = serverName;
    attributes[a.attempt] = job.attempt;
    attributes[a.retryCount] = job.retryCount;
    // Includes any wait for a concurrency key, a rate limit or a paused queue: the store passed the job over until then.
    attributes[a.queueWaitMs] = Math.max(0, job.stateChangedAt.getTime() - job.runAt.getTime());
    this.#flowAttributes(attributes, job);
    const span = this.#startFromCreation(job, view, SpanOperations.process, SpanKind.CONSUMER, attributes, job.stateChangedAt);
    context.items.set(SPAN, span);
    this.#enrich(span, view, 'process');
  }

  /** The attributes of every span of a stored job, in one object the caller may add to. */
  #jobAttributes(job: JobRecord, operation: SpanOperation): Attributes {
    const a = this.#attributes;
    const attributes = this.#messaging(operation, job.queue);
    attributes[M.messageId] = job.id;
    attributes[a.jobId] = job.id;
    attributes[a.jobType] = job.type;
    if (job.method) attributes[a.jobMethod] = job.method;
    if (job.recurringId !== undefined) attributes[a.recurringId] = job.recurringId;
    return attributes;
  }

  /** The flow-control keys and batch id of a job that has them (a job without any pays one check each). */
  #flowAttributes(attributes: Attributes, job: FlowFields): void {
    const a = this.#attributes;
    if (job.concurrency !== undefined) attributes[a.concurrencyKey] = job.concurrency.key;
    if (job.rateLimit !== undefined) attributes[a.rateLimitKey] = job.rateLimit.key;
    if (job.debounceKey !== undefined) attributes[a.debounceKey] = job.debounceKey;
    if (job.batchId !== undefined) attributes[a.batchId] = job.batchId;
  }

  /**
   * A span related to the job's creation span as the job's parenting says (child, link or none);
   * `attributes`: from `#jobAttributes()`, plus the operation's own.
   */
  #startFromCreation(
    job: JobRecord,
    view: TracedJob,
    operation: SpanOperation,
    kind: SpanKind,
    attributes: Attributes,
    startTime: Date,
  ): Span {
    const creation = this.#creationContext(job);
    const parenting = this.#parenting(job);
    const links: Link[] = creation && parenting !== 'none' ? [{ context: trace.getSpanContext(creation)! }] : [];
    const parent = creation && parenting === 'child' ? creation : ROOT_CONTEXT;
    const span = this.#tracer!.startSpan(
      this.#name(view, operation),
      { kind, attributes, links, startTime, root: parent === ROOT_CONTEXT },
      parent,
    );
    if (operation === SpanOperations.transition) this.#enrich(span, view, 'transition');
    return span;
  }

  /** The creation span's context stored with the job, or undefined (none stored, or unreadable). */
  #creationContext(job: JobRecord): Context | undefined {
    if (job.metadata.traceparent === undefined) return undefined;
    const extracted = propagation.extract(ROOT_CONTEXT, job.metadata, metadataGetter);
    const spanContext = trace.getSpanContext(extracted);
    if (!spanContext || !trace.isSpanContextValid(spanContext)) {
      diag.warn(
        `pilotlight: job ${job.id} has an unreadable stored trace context (${job.metadata.traceparent}); its spans start a new trace`,
      );
      return undefined;
    }
    return extracted;
  }

  #parenting(job: JobRecord): Parenting {
    const own = job.metadata[PARENTING_METADATA_KEY] as Parenting | undefined;
    return own !== undefined && PARENTING_MODES.includes(own) ? own : this.#options.parenting;
  }

  #messaging(operation: SpanOperation, queue: string): Attributes {
    return {
      [M.system]: MESSAGING_SYSTEM,
      [M.operationType]: OPERATION_TYPES[operation],
      [M.operationName]: operation,
      [M.destinationName]: queue,
    };
  }

  #fail(span: Span, error: unknown): void {
    const details = toErrorDetails(error);
    if (this.#options.recordException) {
      span.recordException({ name: details.type, message: details.message, ...(details.stack && { stack: details.stack }) });
    }
    span.setAttribute(ERROR_TYPE, details.type);
    span.setStatus({ code: SpanStatusCode.ERROR, message: details.message });
  }

  /** Whether to trace this job; resolves the tracer lazily so a provider registered later is used. */
  #traced(job: TracedJob): boolean {
    this.#tracer ??= (this.#options.tracerProvider ?? trace.getTracerProvider()).getTracer(JOB_TRACER_NAME);
    const filter = this.#options.filter;
    if (!filter) return true;
    try {
      return filter(job) !== false;
    } catch (error) {
      diag.error('pilotlight: tracing filter(job) threw; the job is traced', error);
      return true;
    }
  }

  #name(job: TracedJob, operation: SpanOperation): string {
    const custom = this.#options.spanName;
    if (custom) {
      try {
        const name = custom(job, operation);
        if (typeof name === 'string' && name.length > 0) return name;
        diag.warn(`pilotlight: tracing spanName() returned ${String(name)}; using the default name`);
      } catch (error) {
        diag.error('pilotlight: tracing spanName() threw; using the default name', error);
      }
    }
    return `${operation} ${jobDisplayName(job)}`;
  }

  #enrich(span: Span, job: TracedJob, phase: TracePhase): void {
    const enrich = this.#options.enrich;
    if (!enrich || !span.isRecording()) return;
    try {
      enrich(span, job, phase);
    } catch (error) {
      diag.error(`pilotlight: tracing enrich() threw in phase '${phase}'; the job goes on`, error);
    }
  }
}

function tracedJob(job: JobRecord): TracedJob {
  return { id: job.id, type: job.type, method: job.method, queue: job.queue, recurringId: job.recurringId };
}
