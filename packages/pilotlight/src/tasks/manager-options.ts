import { describe, validateInteger } from '../validation/validate.ts';
import { ValidationError } from '../errors.ts';
import { resolveMetricsOptions, type MetricsOptions, type ResolvedMetricsOptions } from '../telemetry/metrics-options.ts';
import { consoleLogger, type Logger } from '../util/logger.ts';
import { newTaskInstance, type TaskActivator } from './define-task.ts';
import { TASK_DEFAULTS } from './defaults.ts';
import { resolveTaskTracingOptions, type ResolvedTaskTracingOptions, type TaskTracingOptions } from './tracing-options.ts';

export interface KeepFinishedOptions {
  /** The newest finished tasks kept; 0 forgets each at once. @default 1000 */
  readonly count?: number;
  /** Finished tasks older than this (since they finished), in ms, are forgotten. @default 3600000 (one hour) */
  readonly age?: number;
}

export interface TaskManagerOptions {
  /** Tasks running at once, all types together. */
  readonly concurrency: number;
  /** Tasks of one type running at once, by type name: `{ MetadataScanTask: 1 }`. @default only `concurrency` applies */
  readonly concurrencyPerType?: Readonly<Record<string, number>>;
  /** How many finished tasks `get()` and `list()` still show, and for how long. @default { count: 1000, age: 3600000 } */
  readonly keepFinished?: KeepFinishedOptions;
  /** Creates the instance of a task class for each run (a DI container goes here). @default `new TaskClass()` */
  readonly activate?: TaskActivator;
  /** One span per task (on by default; near-free without an OpenTelemetry SDK). `{ enabled: false }` turns it off. */
  readonly tracing?: TaskTracingOptions;
  /**
   * `pilotlight.tasks.running` and `pilotlight.task.duration` on the meter `pilotlight`, by task type
   * (and final status, `error.type` on failures). The instruments are created at the first task:
   * register the OpenTelemetry SDK before that. `{ enabled: false }` records nothing.
   * @default { enabled: true } on the global meter provider
   */
  readonly metrics?: MetricsOptions;
  /** Where failed tasks, throwing listeners and tasks left running at shutdown are reported. @default console warnings and errors */
  readonly logger?: Logger;
}

/** Task manager options with every default applied and every value checked. */
export interface ResolvedTaskManagerOptions {
  readonly concurrency: number;
  readonly concurrencyPerType: ReadonlyMap<string, number>;
  readonly keepFinished: { readonly count: number; readonly age: number };
  readonly activate: TaskActivator;
  readonly tracing: ResolvedTaskTracingOptions;
  readonly metrics: ResolvedMetricsOptions;
  readonly logger: Logger;
}

const OPTION = 'createTaskManager() options';

export function resolveTaskManagerOptions(options: TaskManagerOptions): ResolvedTaskManagerOptions {
  if (typeof options !== 'object' || options === null)
    throw new ValidationError(`createTaskManager() options must be an object; received ${describe(options)}`);
  const max = TASK_DEFAULTS.maxConcurrency;
  const perType = options.concurrencyPerType ?? {};
  if (typeof perType !== 'object' || perType === null || Array.isArray(perType)) {
    throw new ValidationError(`${OPTION}.concurrencyPerType must be an object of type names to limits; received ${describe(perType)}`);
  }
  const keep = options.keepFinished ?? {};
  if (typeof keep !== 'object' || keep === null)
    throw new ValidationError(`${OPTION}.keepFinished must be an object; received ${describe(keep)}`);
  if (options.activate !== undefined && typeof options.activate !== 'function') {
    throw new ValidationError(`${OPTION}.activate must be a function; received ${describe(options.activate)}`);
  }
  const logger = options.logger ?? consoleLogger;
  if (typeof logger !== 'object' || logger === null || typeof logger.error !== 'function' || typeof logger.warn !== 'function') {
    throw new ValidationError(`${OPTION}.logger must be a Logger (debug, info, warn, error); received ${describe(logger)}`);
  }
  return {
    concurrency: validateInteger(options.concurrency, `${OPTION}.concurrency`, 1, max),
    concurrencyPerType: new Map(
      Object.entries(perType).map(([type, limit]) => [type, validateInteger(limit, `${OPTION}.concurrencyPerType.${type}`, 1, max)]),
    ),
    keepFinished: {
      count: validateInteger(keep.count ?? TASK_DEFAULTS.keepFinished.count, `${OPTION}.keepFinished.count`, 0),
      age: validateInteger(keep.age ?? TASK_DEFAULTS.keepFinished.age, `${OPTION}.keepFinished.age`, 0),
    },
    activate: options.activate ?? newTaskInstance,
    tracing: resolveTaskTracingOptions(options.tracing, `${OPTION}.tracing`),
    metrics: resolveMetricsOptions(options.metrics, `${OPTION}.metrics`),
    logger,
  };
}
