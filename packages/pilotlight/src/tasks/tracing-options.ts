import { SpanKind, type TracerProvider } from '@opentelemetry/api';
import { describe, validateInteger, validateNonEmptyString } from '../validation/validate.ts';
import { ValidationError } from '../errors.ts';
import { validateParenting } from '../telemetry/tracing-options.ts';
import type { Parenting } from '../types.ts';
import { TASK_DEFAULTS } from './defaults.ts';
import { TASK_TRACER_NAME } from './names.ts';

/** Tracing of tasks: one span per task, `BackgroundTask.{TaskType}` (see `names.ts`). */
export interface TaskTracingOptions {
  /** Trace tasks. Costs almost nothing while no OpenTelemetry SDK is registered. @default true */
  readonly enabled?: boolean;
  /**
   * How a task's span relates to the span active when `start()` was called: `'child'` (nested, same
   * trace), `'link'` (a new trace linking to it), `'none'` (a new, unrelated trace). @default 'child'
   */
  readonly parenting?: Parenting;
  /**
   * Kind of task spans. Some APM products list only SERVER or CONSUMER spans as roots (transactions):
   * `SpanKind.CONSUMER` with `parenting: 'link'` makes tasks show up there. @default SpanKind.INTERNAL
   */
  readonly spanKind?: SpanKind;
  /** Name of the tracer (instrumentation scope). @default TASK_TRACER_NAME ('pilotlight.tasks') */
  readonly tracerName?: string;
  /** @default the global tracer provider (`trace.getTracerProvider()`) */
  readonly tracerProvider?: TracerProvider;
  /** Also record a failed task's exception as an `exception` span event (its `exception.*` attributes are always set). @default true */
  readonly recordException?: boolean;
  /**
   * Shortest time between two `task.progress` events of one span, in ms; the last report held back
   * is recorded when the task ends. At most 100 per span. `null` records no progress event. @default 1000
   */
  readonly progressEventInterval?: number | null;
}

export interface ResolvedTaskTracingOptions {
  readonly enabled: boolean;
  readonly parenting: Parenting;
  readonly spanKind: SpanKind;
  readonly tracerName: string;
  readonly tracerProvider: TracerProvider | undefined;
  readonly recordException: boolean;
  readonly progressEventInterval: number | null;
}

const SPAN_KINDS = Object.keys(SpanKind).filter((key) => Number.isNaN(Number(key)));

export function resolveTaskTracingOptions(options: TaskTracingOptions = {}, option = 'tracing'): ResolvedTaskTracingOptions {
  if (typeof options !== 'object' || options === null)
    throw new ValidationError(`${option} must be an object; received ${describe(options)}`);
  const bool = (key: 'enabled' | 'recordException'): boolean => {
    const value = options[key] ?? true;
    if (typeof value !== 'boolean') throw new ValidationError(`${option}.${key} must be a boolean; received ${describe(value)}`);
    return value;
  };
  const spanKind = options.spanKind ?? SpanKind.INTERNAL;
  if (typeof spanKind !== 'number' || SpanKind[spanKind] === undefined) {
    throw new ValidationError(
      `${option}.spanKind must be a SpanKind (${SPAN_KINDS.map((kind) => `SpanKind.${kind}`).join(', ')}); received ${describe(spanKind)}`,
    );
  }
  const provider = options.tracerProvider;
  if (provider !== undefined && typeof (provider as Partial<TracerProvider> | null)?.getTracer !== 'function') {
    throw new ValidationError(`${option}.tracerProvider must be a TracerProvider; received ${describe(provider)}`);
  }
  const interval =
    options.progressEventInterval === undefined ? TASK_DEFAULTS.tracing.progressEventInterval : options.progressEventInterval;
  return {
    enabled: bool('enabled'),
    parenting: validateParenting(options.parenting ?? 'child', `${option}.parenting`),
    spanKind,
    tracerName: validateNonEmptyString(options.tracerName ?? TASK_TRACER_NAME, `${option}.tracerName`),
    tracerProvider: provider,
    recordException: bool('recordException'),
    progressEventInterval: interval === null ? null : validateInteger(interval, `${option}.progressEventInterval`, 1),
  };
}
