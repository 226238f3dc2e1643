import {
  context as otelContext,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type SpanOptions,
  type Tracer,
} from '@opentelemetry/api';
import { toErrorDetails } from '../util/errors.ts';
import { TASK_DEFAULTS } from './defaults.ts';
import {
  ExceptionAttributes,
  TASK_CANCELLED_DESCRIPTION,
  TaskAttributes,
  TaskEvents,
  TaskProgressAttributes,
  taskSpanName,
} from './names.ts';
import type { ResolvedTaskTracingOptions } from './tracing-options.ts';
import { TaskStatuses, type FinalTaskStatus } from './types.ts';

/** What a span needs to know of its task. */
interface TracedTask {
  readonly id: string;
  readonly type: string;
  readonly name: string;
}

/** Starts task spans with the manager's tracing options; resolves its tracer lazily, so a provider registered later is used. */
export class TaskTracer {
  readonly #options: ResolvedTaskTracingOptions;
  #tracer: Tracer | undefined;

  constructor(options: ResolvedTaskTracingOptions) {
    this.#options = options;
  }

  /**
   * The span of `task`, related to `parent` (the context active at `start()`) as `parenting` says. It
   * starts now: when the task starts running, or when it is cancelled before it ran. Undefined when
   * the span neither records nor carries a valid context to pass on (no SDK registered): then the
   * task runs as if tracing were disabled, which keeps tracing near-free without an SDK.
   */
  start(task: TracedTask, parent: Context): TaskSpan | undefined {
    const options = this.#options;
    this.#tracer ??= (options.tracerProvider ?? trace.getTracerProvider()).getTracer(options.tracerName);
    const attributes: Attributes = { [TaskAttributes.id]: task.id, [TaskAttributes.type]: task.type, [TaskAttributes.name]: task.name };
    let spanOptions: SpanOptions = { kind: options.spanKind, attributes };
    if (options.parenting !== 'child') {
      const parentSpan = options.parenting === 'link' ? trace.getSpanContext(parent) : undefined;
      spanOptions = {
        ...spanOptions,
        root: true,
        ...(parentSpan && trace.isSpanContextValid(parentSpan) && { links: [{ context: parentSpan }] }),
      };
    }
    const span = this.#tracer.startSpan(taskSpanName(task.type), spanOptions, parent);
    if (!span.isRecording() && !trace.isSpanContextValid(span.spanContext())) return undefined;
    return new TaskSpan(span, trace.setSpan(parent, span), options);
  }
}

/**
 * One task's span: `task.started`, throttled `task.progress` events, then the final status, its
 * event and the span's end. Does nothing but end a span that does not record (sampled out): its
 * context still reaches the task's own spans, which follow the sampling decision.
 */
export class TaskSpan {
  /** The context the task runs in: its own spans nest under this one. */
  readonly #context: Context;
  readonly #span: Span;
  readonly #recording: boolean;
  readonly #progressInterval: number | null;
  readonly #recordException: boolean;
  #progressEvents = 0;
  #lastProgressTime = Number.NEGATIVE_INFINITY;
  /** The last report held back by the throttle, recorded when the task ends. */
  #heldBack: { readonly value: number; readonly message: string | undefined } | undefined;

  constructor(span: Span, context: Context, options: ResolvedTaskTracingOptions) {
    this.#span = span;
    this.#context = context;
    this.#recording = span.isRecording();
    this.#progressInterval = options.progressEventInterval;
    this.#recordException = options.recordException;
  }

  /** The task leaves Pending and runs. */
  started(): void {
    if (this.#recording) this.#span.addEvent(TaskEvents.started);
  }

  progress(value: number, message: string | undefined): void {
    if (!this.#recording || this.#progressInterval === null || this.#progressEvents >= TASK_DEFAULTS.tracing.maxProgressEvents) return;
    const now = performance.now();
    if (now - this.#lastProgressTime < this.#progressInterval) {
      this.#heldBack = { value, message };
      return;
    }
    this.#lastProgressTime = now;
    this.#heldBack = undefined;
    this.#addProgress(value, message);
  }

  /** Sets the final status, its event and attributes, and ends the span. */
  end(status: FinalTaskStatus, durationMs: number, error?: unknown): void {
    const span = this.#span;
    try {
      if (!this.#recording) return;
      if (this.#heldBack) this.#addProgress(this.#heldBack.value, this.#heldBack.message);
      span.setAttributes({ [TaskAttributes.status]: status, [TaskAttributes.durationMs]: durationMs });
      if (status === TaskStatuses.Completed) {
        span.addEvent(TaskEvents.completed);
        span.setStatus({ code: SpanStatusCode.OK });
      } else if (status === TaskStatuses.Cancelled) {
        span.addEvent(TaskEvents.cancelled);
        span.setStatus({ code: SpanStatusCode.ERROR, message: TASK_CANCELLED_DESCRIPTION });
      } else {
        const details = toErrorDetails(error);
        span.setAttributes({
          [ExceptionAttributes.type]: details.type,
          [ExceptionAttributes.message]: details.message,
          ...(details.stack !== undefined && { [ExceptionAttributes.stacktrace]: details.stack }),
        });
        if (this.#recordException)
          span.recordException({
            name: details.type,
            message: details.message,
            ...(details.stack !== undefined && { stack: details.stack }),
          });
        span.addEvent(TaskEvents.failed);
        span.setStatus({ code: SpanStatusCode.ERROR, message: details.message });
      }
    } finally {
      span.end();
    }
  }

  /** Runs `fn` with this span active. */
  with<R>(fn: () => R): R {
    return otelContext.with(this.#context, fn);
  }

  #addProgress(value: number, message: string | undefined): void {
    this.#progressEvents++;
    this.#span.addEvent(TaskEvents.progress, {
      [TaskProgressAttributes.value]: value,
      ...(message !== undefined && { [TaskProgressAttributes.message]: message }),
    });
  }
}
