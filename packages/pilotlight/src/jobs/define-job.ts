import { validateTimeout } from '../config/timeout.ts';
import { ValidationError } from '../errors.ts';
import type { Parenting, RetryOptions } from '../types.ts';
import type { JobContext } from './job-context.ts';
import { validateFlowDefaults } from './flow-control.ts';

const JOB_DEFINITION = Symbol.for('pilotlight.jobDefinition');

/** Options a job can have; defaults for a definition, or per enqueue. */
export interface JobOptions {
  /** @default 'default' */
  readonly queue?: string;
  /** Higher runs first. @default 0 */
  readonly priority?: number;
  readonly retry?: RetryOptions;
  /** How this job's attempts relate to its creation in traces. @default the tracing option's `parenting` ('child') */
  readonly parenting?: Parenting;
  /**
   * How long one attempt's handler may run, in ms (1 to 2147483647), or `null` for no limit. When it
   * passes, the job's `signal` aborts with a `JobTimeoutError` and the attempt fails with it (retried
   * under the retry policy) at once, whether or not the handler stops. The most specific wins: the
   * enqueue call's, the definition's (a job class's `static jobTimeout`), the worker's `timeout`.
   * @default none
   */
  readonly timeout?: number | null;
}

/**
 * At most `limit` jobs with `key` run at once, across every worker and queue (`{ key:
 * \`tenant:${id}\`, limit: 1 }`: one job per tenant at a time). `K` is `string` in enqueue options; in
 * a definition it may also be a function of the job's arguments.
 */
export interface ConcurrencyOption<K = string> {
  readonly key: K;
  /** 1 to 10000. */
  readonly limit: number;
}

/** At most `max` jobs with `key` start per `per` ms, across every worker and queue. */
export interface RateLimitOption<K = string> {
  /** @default the job's type (a function job's name, a job class's type: all its methods share it) */
  readonly key?: K;
  /** Starts per window: 1 to 1000000. */
  readonly max: number;
  /** The window, in ms: 1 to 86400000 (a day). */
  readonly per: number;
}

/**
 * The job waits `delay` ms (0: none) and replaces the waiting (Enqueued or Scheduled) job with the
 * same `key`, which is deleted: a burst of enqueues runs once, after the last. Not with `dedupKey`
 * (which keeps the first) nor with `schedule()` (the delay sets the due time).
 */
export interface DebounceOption<K = string> {
  readonly key: K;
  /** ms, 0 or more. */
  readonly delay: number;
}

/** The flow-control options of an enqueue call; `null` drops the definition's default. */
export interface FlowControlOptions {
  readonly concurrency?: ConcurrencyOption | null;
  readonly rateLimit?: RateLimitOption | null;
  readonly debounce?: DebounceOption | null;
}

/** A key in a definition: a string, or a function of the job's arguments called when a job is created. */
export type KeyOf<Args> = string | ((args: Args) => string);

/** `defineJob()`'s options: the defaults of its jobs. An enqueue call's own options win, option by option. */
export interface JobDefinitionOptions<Args = any> extends JobOptions {
  readonly concurrency?: ConcurrencyOption<KeyOf<Args>>;
  readonly rateLimit?: RateLimitOption<KeyOf<Args>>;
  readonly debounce?: DebounceOption<KeyOf<Args>>;
}

/** A key of a job class's defaults: a string, or a function of a method's arguments and its name. */
export type ClassKey = string | ((args: readonly any[], method: string) => string);

/** A function job, made by `defineJob()`. */
export interface JobDefinition<Args = unknown, Result = unknown> {
  readonly [JOB_DEFINITION]: true;
  /** The job's name, stored as its type. */
  readonly type: string;
  readonly handler: (args: Args, context: JobContext) => Result | Promise<Result>;
  readonly options: JobDefinitionOptions<Args>;
}

/**
 * A class whose methods are jobs (Hangfire style). Its type name is `static jobType` when present
 * (set it when code is minified), the class name otherwise. Workers create instances through their
 * `activate` option, so a dependency-injection container can provide them.
 */
export type JobClass<T = unknown> = (abstract new (...args: never[]) => T) & {
  readonly jobType?: string;
  /** The `timeout` (ms, or `null` for none) of the class's jobs, as `defineJob()`'s `options.timeout`. */
  readonly jobTimeout?: number | null;
  /** The concurrency key of the class's jobs, as `defineJob()`'s `options.concurrency`. */
  readonly jobConcurrency?: ConcurrencyOption<ClassKey>;
  /** The rate limit of the class's jobs, as `defineJob()`'s `options.rateLimit`. */
  readonly jobRateLimit?: RateLimitOption<ClassKey>;
  /** The debounce of the class's jobs, as `defineJob()`'s `options.debounce`. */
  readonly jobDebounce?: DebounceOption<ClassKey>;
};

/** Names of the methods of `T` that can be jobs. */
export type JobMethodName<T> = {
  [K in keyof T]-?: T[K] extends (...args: never[]) => unknown ? K : never;
}[keyof T] &
  string;

/** The arguments a job method is enqueued with: its parameters, less a trailing `JobContext`. */
export type JobMethodArgs<T, M extends JobMethodName<T>> = T[M] extends (...args: infer P) => unknown
  ? P extends [...infer Rest, infer Last]
    ? [Last] extends [JobContext]
      ? Rest
      : P
    : P
  : never;

/**
 * Define a function job: a name (its type) and a handler taking typed arguments.
 *
 * ```ts
 * const sendEmail = defineJob('email.send', async (args: { to: string }, ctx) => { ... });
 * await client.enqueue(sendEmail, { to: 'ada@example.com' });
 * ```
 */
export function defineJob<Args = void, Result = unknown>(
  type: string,
  handler: (args: Args, context: JobContext) => Result | Promise<Result>,
  options: JobDefinitionOptions<Args> = {},
): JobDefinition<Args, Result> {
  if (typeof type !== 'string' || type.length === 0 || type.length > 200) {
    throw new ValidationError(`defineJob() type must be a non-empty string of at most 200 characters; received ${String(type)}`);
  }
  if (typeof handler !== 'function') {
    throw new ValidationError(`defineJob('${type}') handler must be a function; received ${typeof handler}`);
  }
  validateTimeout(options?.timeout, `defineJob('${type}') options.timeout`);
  validateFlowDefaults(options ?? {}, `defineJob('${type}') options`);
  return Object.freeze({ [JOB_DEFINITION]: true as const, type, handler, options });
}

export function isJobDefinition(value: unknown): value is JobDefinition {
  return typeof value === 'object' && value !== null && JOB_DEFINITION in value;
}

/** The type name a job class is stored under. */
export function jobClassType(jobClass: JobClass): string {
  const type = jobClass.jobType ?? jobClass.name;
  if (typeof type !== 'string' || type.length === 0) {
    throw new ValidationError('A job class needs a name: declare it as a named class or give it a static jobType');
  }
  return type;
}

/** How a job is shown to people and in span names: `Type.method`, or the name of a function job. */
export function jobDisplayName(job: { readonly type: string; readonly method: string }): string {
  return job.method ? `${job.type}.${job.method}` : job.type;
}
