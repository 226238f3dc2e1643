import type { Span, TracerProvider } from '@opentelemetry/api';
import { ValidationError } from '../errors.ts';
import { describe } from '../validation/validate.ts';
import type { Parenting } from '../types.ts';
import type { SpanOperation } from './names.ts';

export const PARENTING_MODES: readonly Parenting[] = ['child', 'link', 'none'];

/** Where a hook is called: creating the job, running an attempt, or a state change outside both. */
export type TracePhase = 'create' | 'process' | 'transition';

/** What tracing hooks see of a job (never its arguments). */
export interface TracedJob {
  /** Undefined while the job is being created. */
  readonly id: string | undefined;
  readonly type: string;
  readonly method: string;
  readonly queue: string;
  readonly recurringId: string | undefined;
}

export interface TracingOptions {
  /** Trace jobs. Tracing costs almost nothing while no OpenTelemetry SDK is registered. @default true */
  readonly enabled?: boolean;
  /** How an attempt relates to the job's creation; a job's own `parenting` option wins. @default 'child' */
  readonly parenting?: Parenting;
  /** Span names; keep them low-cardinality (no ids). @default `${operation} ${Type.method}` */
  readonly spanName?: (job: TracedJob, operation: SpanOperation) => string;
  /** Adds business attributes (a tenant, a plan) to a span, in every phase. Never put secrets there. */
  readonly enrich?: (span: Span, job: TracedJob, phase: TracePhase) => void;
  /** Return false to leave a job untraced. @default every job is traced */
  readonly filter?: (job: TracedJob) => boolean;
  /** Record a failed attempt's exception (type, message, stack) as a span event. @default true */
  readonly recordException?: boolean;
  /** Namespace of Pilotlight's attributes: `pilotlight.job.id`, or `hangfire.job.id` with `'hangfire'`. @default 'pilotlight' */
  readonly attributeNamespace?: string;
  /** @default the global tracer provider (`trace.getTracerProvider()`) */
  readonly tracerProvider?: TracerProvider;
}

export interface ResolvedTracingOptions {
  readonly enabled: boolean;
  readonly parenting: Parenting;
  readonly spanName: ((job: TracedJob, operation: SpanOperation) => string) | undefined;
  readonly enrich: ((span: Span, job: TracedJob, phase: TracePhase) => void) | undefined;
  readonly filter: ((job: TracedJob) => boolean) | undefined;
  readonly recordException: boolean;
  readonly attributeNamespace: string;
  readonly tracerProvider: TracerProvider | undefined;
}

export function resolveTracingOptions(options: TracingOptions = {}, option = 'tracing'): ResolvedTracingOptions {
  if (typeof options !== 'object' || options === null)
    throw new ValidationError(`${option} must be an object; received ${describe(options)}`);
  const bool = (key: 'enabled' | 'recordException'): boolean => {
    const value = options[key] ?? true;
    if (typeof value !== 'boolean') throw new ValidationError(`${option}.${key} must be a boolean; received ${describe(value)}`);
    return value;
  };
  const fn = <K extends 'spanName' | 'enrich' | 'filter'>(key: K): TracingOptions[K] => {
    const value = options[key];
    if (value !== undefined && typeof value !== 'function')
      throw new ValidationError(`${option}.${key} must be a function; received ${describe(value)}`);
    return value;
  };
  const namespace = options.attributeNamespace ?? 'pilotlight';
  if (typeof namespace !== 'string' || !/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/.test(namespace)) {
    throw new ValidationError(
      `${option}.attributeNamespace must be a lowercase dotted name such as 'pilotlight' or 'hangfire'; received ${describe(namespace)}`,
    );
  }
  return {
    enabled: bool('enabled'),
    parenting: validateParenting(options.parenting ?? 'child', `${option}.parenting`),
    spanName: fn('spanName'),
    enrich: fn('enrich'),
    filter: fn('filter'),
    recordException: bool('recordException'),
    attributeNamespace: namespace,
    tracerProvider: options.tracerProvider,
  };
}

export function validateParenting(value: unknown, option: string): Parenting {
  if (!PARENTING_MODES.includes(value as Parenting)) {
    throw new ValidationError(`${option} must be one of ${PARENTING_MODES.join(', ')}; received ${describe(value)}`);
  }
  return value as Parenting;
}
