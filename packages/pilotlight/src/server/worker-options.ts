import { DEFAULTS } from '../config/defaults.ts';
import { resolveRetention, validateRetry, type ResolvedRetention, type ResolvedRetry, type RetentionOptions } from '../config/resolve.ts';
import { validateTimeout } from '../config/timeout.ts';
import { ValidationError } from '../errors.ts';
import type { JobFilter } from '../filters/filter.ts';
import type { JobClass, JobDefinition } from '../jobs/define-job.ts';
import type { Store } from '../storage/store.ts';
import type { RetryOptions } from '../types.ts';
import { consoleLogger, type Logger } from '../util/logger.ts';
import { describe, validateInteger, validateNonEmptyString, validateQueueName } from '../validation/validate.ts';
import type { JobActivator } from './job-registry.ts';
import { resolveTracingOptions, type ResolvedTracingOptions, type TracingOptions } from '../telemetry/tracing-options.ts';
import { resolveMetricsOptions, type MetricsOptions, type ResolvedMetricsOptions } from '../telemetry/metrics-options.ts';
import { createServerName } from './server-name.ts';

export interface WorkerOptions {
  readonly store: Store;
  /** The jobs this worker can run: `defineJob()` definitions and job classes. */
  readonly jobs: readonly (JobDefinition<any, any> | JobClass<any>)[];
  /** Queues to take jobs from. @default ['default'] */
  readonly queues?: readonly string[];
  /** Jobs run at once. @default 10 */
  readonly concurrency?: number;
  /**
   * Jobs claimed beyond `concurrency` and held, leased to this worker, until a slot frees up: the
   * next jobs start without a round trip to the store, and each claim and commit carries more jobs.
   * For many short jobs (up to several times the throughput on PostgreSQL). Held jobs are
   * Processing for everyone else and wait behind this worker's running ones, so leave it at 0
   * for long jobs. On `stop()` they are handed back without spending an attempt.
   * @default 0
   */
  readonly prefetch?: number;
  /** Creates the instance of a job class for each attempt (a DI container goes here). @default `new JobClass()` */
  readonly activate?: JobActivator;
  /** Filters run around each attempt and each state change this worker makes. */
  readonly filters?: readonly JobFilter[];
  /** Retry policy for jobs that have none of their own. @default { attempts: 10, backoff: 'hangfire' } */
  readonly retry?: RetryOptions;
  /** How long finished jobs are kept. @default succeeded and deleted: one day; failed: forever */
  readonly retention?: RetentionOptions;
  /** How long a claimed job stays invisible to other workers without a heartbeat, in ms. @default 30000 */
  readonly leaseDuration?: number;
  /** How often leases are renewed and the heartbeat recorded, in ms; must be under `leaseDuration`. @default 5000 */
  readonly heartbeatInterval?: number;
  /** How often an idle worker looks for jobs when nothing woke it, in ms. @default 1000 */
  readonly pollInterval?: number;
  /** How often due jobs are promoted, expired leases requeued and recurring jobs fired, in ms. @default 1000 */
  readonly maintenanceInterval?: number;
  /** How long `stop()` waits for running jobs before aborting them, in ms. @default 10000 */
  readonly shutdownTimeout?: number;
  /**
   * How long an attempt's handler may run, in ms, for the jobs whose enqueue call and definition
   * give no `timeout`; `null` for no limit. See `JobOptions.timeout`.
   * @default none
   */
  readonly timeout?: number | null;
  /** Workers silent this long are removed from the server list, in ms. @default 60000 */
  readonly serverTimeout?: number;
  /** Stop gracefully on SIGTERM and SIGINT. @default false */
  readonly handleSignals?: boolean;
  /** @default `host:pid:random` */
  readonly serverName?: string;
  /** @default console warnings and errors */
  readonly logger?: Logger;
  /** Tracing of attempts and of the state changes this worker makes (on by default). */
  readonly tracing?: TracingOptions;
  /**
   * Metrics of attempts, of the store round trips and slots of this worker, and of the whole
   * store (jobs per queue and state, queue lag, workers alive), read once a second per process.
   * @default { enabled: true, meterProvider: the global one }
   */
  readonly metrics?: MetricsOptions;
}

/** Worker options with every default applied and every value checked: internals never see `undefined`. */
export interface ResolvedWorkerOptions {
  readonly store: Store;
  readonly jobs: readonly (JobDefinition<any, any> | JobClass<any>)[];
  readonly queues: readonly string[];
  readonly concurrency: number;
  readonly prefetch: number;
  readonly activate: JobActivator;
  readonly filters: readonly JobFilter[];
  readonly retry: ResolvedRetry;
  readonly retention: ResolvedRetention;
  readonly leaseDuration: number;
  readonly heartbeatInterval: number;
  readonly pollInterval: number;
  readonly maintenanceInterval: number;
  readonly shutdownTimeout: number;
  /** Jobs' default attempt timeout; `null`: none. */
  readonly timeout: number | null;
  readonly serverTimeout: number;
  readonly handleSignals: boolean;
  readonly serverName: string;
  readonly logger: Logger;
  readonly tracing: ResolvedTracingOptions;
  readonly metrics: ResolvedMetricsOptions;
}

export function resolveWorkerOptions(options: WorkerOptions): ResolvedWorkerOptions {
  if (!options || typeof options.store !== 'object' || options.store === null) {
    throw new ValidationError(`createWorker() options.store must be a store; received ${describe(options?.store)}`);
  }
  const d = DEFAULTS.worker;
  const ms = (
    key: 'leaseDuration' | 'heartbeatInterval' | 'pollInterval' | 'maintenanceInterval' | 'shutdownTimeout' | 'serverTimeout',
    min: number,
  ) => validateInteger(options[key] ?? d[key], `createWorker() options.${key}`, min);
  const queues = options.queues ?? d.queues;
  if (!Array.isArray(queues) || queues.length === 0) {
    throw new ValidationError(`createWorker() options.queues must be a non-empty array of queue names; received ${describe(queues)}`);
  }
  queues.forEach((queue, i) => validateQueueName(queue, `createWorker() options.queues[${i}]`));
  const leaseDuration = ms('leaseDuration', 1_000);
  const heartbeatInterval = ms('heartbeatInterval', 10);
  if (heartbeatInterval >= leaseDuration) {
    throw new ValidationError(
      `createWorker() options.heartbeatInterval (${heartbeatInterval}) must be shorter than leaseDuration (${leaseDuration}), or leases expire while jobs run`,
    );
  }
  const retry = validateRetry(options.retry, 'createWorker() options.retry');
  if (options.activate !== undefined && typeof options.activate !== 'function') {
    throw new ValidationError(`createWorker() options.activate must be a function; received ${describe(options.activate)}`);
  }
  if (options.filters !== undefined && !Array.isArray(options.filters)) {
    throw new ValidationError(`createWorker() options.filters must be an array; received ${describe(options.filters)}`);
  }
  return {
    store: options.store,
    jobs: options.jobs,
    queues: [...new Set(queues)],
    concurrency: validateInteger(options.concurrency ?? d.concurrency, 'createWorker() options.concurrency', 1, 10_000),
    prefetch: validateInteger(options.prefetch ?? d.prefetch, 'createWorker() options.prefetch', 0, 10_000),
    activate: options.activate ?? ((jobClass) => new (jobClass as unknown as new () => unknown)()),
    filters: options.filters ?? [],
    retry: { attempts: retry.attempts ?? DEFAULTS.retry.attempts, backoff: retry.backoff ?? DEFAULTS.retry.backoff },
    retention: resolveRetention(options.retention, 'createWorker() options.retention'),
    leaseDuration,
    heartbeatInterval,
    pollInterval: ms('pollInterval', 10),
    maintenanceInterval: ms('maintenanceInterval', 10),
    shutdownTimeout: ms('shutdownTimeout', 0),
    timeout: validateTimeout(options.timeout, 'createWorker() options.timeout') ?? d.timeout,
    serverTimeout: ms('serverTimeout', 1_000),
    handleSignals: options.handleSignals ?? false,
    serverName:
      options.serverName === undefined
        ? createServerName()
        : validateNonEmptyString(options.serverName, 'createWorker() options.serverName'),
    logger: options.logger ?? consoleLogger,
    tracing: resolveTracingOptions(options.tracing, 'createWorker() options.tracing'),
    metrics: resolveMetricsOptions(options.metrics, 'createWorker() options.metrics'),
  };
}
