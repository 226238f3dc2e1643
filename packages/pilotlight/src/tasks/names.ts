/**
 * Every name the task manager's tracing emits: tracer, span name, attributes, events, status
 * description: the task span shape (`BackgroundTask.{TaskType}`, `task.*` attributes and events) that
 * the README's task telemetry section documents.
 */

/** The tracer (OpenTelemetry instrumentation scope; an `ActivitySource` in .NET) of task spans. */
export const TASK_TRACER_NAME = 'pilotlight.tasks';

/** Prefix of every task span's name: `BackgroundTask.MetadataScanTask`. */
export const TASK_SPAN_PREFIX = 'BackgroundTask.';

/** The name of a task type's spans; the type is low-cardinality (a class name), never an id. */
export function taskSpanName(type: string): string {
  return `${TASK_SPAN_PREFIX}${type}`;
}

/** Attributes of every task span. */
export const TaskAttributes = {
  /** The task's UUID v7. */
  id: 'task.id',
  /** The task class name or `defineTask()` type: `MetadataScanTask`. */
  type: 'task.type',
  /** The human-readable name given to `start()`: `Metadata library scan`. */
  name: 'task.name',
  /** Final status: `Completed`, `Failed` or `Cancelled`. */
  status: 'task.status',
  /** Execution time in ms (a double; 0 for a task cancelled before it ran). */
  durationMs: 'task.duration_ms',
} as const;

/**
 * Attributes of a failed task's span: OpenTelemetry's exception semantic conventions, set on the span
 * itself (not only on an `exception` event), so that backends showing span attributes see them.
 */
export const ExceptionAttributes = {
  type: 'exception.type',
  message: 'exception.message',
  stacktrace: 'exception.stacktrace',
} as const;

/** Span events, in the order they can happen: `started`, any `progress`, then exactly one of the last three. */
export const TaskEvents = {
  /** The task left Pending and runs (absent for a task cancelled before it ran). */
  started: 'task.started',
  /** A progress report, throttled (see the tracing option `progressEventInterval`). */
  progress: 'task.progress',
  completed: 'task.completed',
  cancelled: 'task.cancelled',
  failed: 'task.failed',
} as const;

/** Attributes of a `task.progress` event. */
export const TaskProgressAttributes = {
  value: 'task.progress.value',
  message: 'task.progress.message',
} as const;

/** Status description of a cancelled task's span (status ERROR). */
export const TASK_CANCELLED_DESCRIPTION = 'Task was cancelled';
