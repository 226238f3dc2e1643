import { DEFAULTS } from '../config/defaults.ts';
import { resolveRetention, type RetentionOptions } from '../config/resolve.ts';
import { JobNotFoundError, ValidationError } from '../errors.ts';
import type { JobFilter } from '../filters/filter.ts';
import { createPipeline } from '../engine/built-in-filters.ts';
import type { FlowControlOptions, JobClass, JobDefinition, JobMethodArgs, JobMethodName, JobOptions } from '../jobs/define-job.ts';
import { StateMachine } from '../states/state-machine.ts';
import type {
  CountJobsFilter,
  JobSearchPage,
  ListJobsQuery,
  MinuteOutcomes,
  QueueStats,
  SearchJobsQuery,
  Store,
} from '../storage/store.ts';
import { resolveSearchJobsQuery, validateCountJobsFilter, validateListJobsQuery, validateSince } from '../storage/job-queries.ts';
import type { JobRecord, StateName, StateRecord } from '../types.ts';
import { consoleLogger, type Logger } from '../util/logger.ts';
import { readInvocation } from './invocation.ts';
import { JobCreator, type JobRequest } from '../engine/job-creator.ts';
import { RecurringJobs } from './recurring-jobs.ts';
import { QueueControl } from './queues.ts';
import {
  continueWhenAll,
  createBatch,
  getBatch,
  type BatchCreated,
  type BatchEntry,
  type BatchJob,
  type BatchOptions,
  type BatchView,
  type ContinueWhenAllOptions,
} from './batches.ts';
import { jobRequest } from './job-request.ts';
import { LIMITS } from '../validation/limits.ts';
import { describe, validateNonEmptyString } from '../validation/validate.ts';
import { resolveTracingOptions, type TracingOptions } from '../telemetry/tracing-options.ts';
import { resolveMetricsOptions, type MetricsOptions } from '../telemetry/metrics-options.ts';

export interface ClientOptions<Transaction = never> {
  /** Where jobs are kept. Its kind decides what `options.transaction` takes (nothing for SQLite). */
  readonly store: Store<Transaction>;
  /** Filters run around creation and around state changes made by this client. */
  readonly filters?: readonly JobFilter[];
  /** @default console warnings and errors */
  readonly logger?: Logger;
  /** How long finished jobs are kept; use the same as your workers. */
  readonly retention?: RetentionOptions;
  /** Tracing of job creation and of the state changes this client makes (on by default). */
  readonly tracing?: TracingOptions;
  /**
   * Metrics of the jobs this client creates (`messaging.client.sent.messages`); the instruments are
   * made at its first creation. @default { enabled: true, meterProvider: the global one }
   */
  readonly metrics?: MetricsOptions;
}

/**
 * Options of one job: its definition's defaults, overridden option by option. Flow control
 * (`concurrency`, `rateLimit`, `debounce`; `null` drops the definition's) is enforced by the store
 * across every worker: see the README's Flow control section.
 */
export interface EnqueueOptions<Transaction = never> extends JobOptions, FlowControlOptions {
  /**
   * At most one unfinished job (not yet `Succeeded`, `Failed` or `Deleted`) has this key. Enqueueing
   * with a key already held creates nothing and returns the holder's id.
   */
  readonly dedupKey?: string;
  /** Metadata stored with the job (strings). Never put secrets here: filters may export it. */
  readonly metadata?: Readonly<Record<string, string>>;
  /**
   * Write the job inside this transaction of yours, so that it exists if and only if the
   * transaction commits (a job about a row you insert is never run without the row, and never
   * lost with it). Stores that support it say what it is: for `@pilotlight/postgres`, the `pg`
   * client you ran `BEGIN` on. No worker sees the job before the commit.
   */
  readonly transaction?: Transaction;
}

export interface ScheduleOptions<Transaction = never> extends EnqueueOptions<Transaction> {
  /** Run at this time (a time in the past runs now). Give `at` or `delay`. */
  readonly at?: Date;
  /** Run after this many milliseconds. Give `at` or `delay`. */
  readonly delay?: number;
}

type Rest<A, O> = [args: A, options?: O];
type ClassRest<T, M extends JobMethodName<T>, O> = [method: M, args: JobMethodArgs<T, M>, options?: O];

/** A job as the client reads it: the stored record with its arguments parsed. */
export interface JobView extends JobRecord {
  /** The parsed arguments; undefined if what is stored is not a JSON array (the job fails when run). */
  readonly args: unknown[] | undefined;
  /** Once Succeeded: what its handler returned, parsed; undefined when it returned nothing or its result could not be stored. */
  readonly result: unknown;
}

/**
 * Creates and manages jobs. Any process can have a client: an API that enqueues, a worker, a script.
 *
 * ```ts
 * const client = createClient({ store });
 * await client.enqueue(sendEmail, { to: 'ada@example.com' });
 * await client.enqueue(TenantService, 'provisionTenant', [tenantId]);
 * ```
 */
export class Client<Transaction = never> {
  readonly store: Store<Transaction>;
  /** Recurring (cron) jobs. */
  readonly recurring: RecurringJobs;
  /** Pause, resume and limit queues, for every worker. */
  readonly queues: QueueControl;
  readonly #states: StateMachine;
  readonly #creator: JobCreator;

  constructor(options: ClientOptions<Transaction>) {
    if (!options || typeof options.store !== 'object' || options.store === null) {
      throw new ValidationError(`createClient() options.store must be a store; received ${describe(options?.store)}`);
    }
    this.store = options.store;
    const logger = options.logger ?? consoleLogger;
    const telemetry = {
      tracing: resolveTracingOptions(options.tracing, 'createClient() options.tracing'),
      metrics: resolveMetricsOptions(options.metrics, 'createClient() options.metrics'),
    };
    const pipeline = createPipeline(options.filters ?? [], DEFAULTS.retry, telemetry, logger);
    this.#states = new StateMachine(this.store, pipeline, resolveRetention(options.retention));
    this.#creator = new JobCreator(pipeline, this.#states);
    this.recurring = new RecurringJobs(this.store, this.#creator);
    this.queues = new QueueControl(this.store);
  }

  /** Fire-and-forget: the job runs as soon as a worker is free. Resolves to the job's id. */
  enqueue<A>(job: JobDefinition<A, any>, ...rest: Rest<A, EnqueueOptions<Transaction>>): Promise<string>;
  enqueue<T, M extends JobMethodName<T>>(job: JobClass<T>, ...rest: ClassRest<T, M, EnqueueOptions<Transaction>>): Promise<string>;
  enqueue(job: unknown, ...rest: unknown[]): Promise<string> {
    return this.#createOne('enqueue', job, rest, () => ({ name: 'Enqueued' }));
  }

  /** Run later: at a date (`{ at }`) or after a delay in ms (`{ delay }`). */
  schedule<A>(job: JobDefinition<A, any>, args: A, options: ScheduleOptions<Transaction>): Promise<string>;
  schedule<T, M extends JobMethodName<T>>(
    job: JobClass<T>,
    method: M,
    args: JobMethodArgs<T, M>,
    options: ScheduleOptions<Transaction>,
  ): Promise<string>;
  schedule(job: unknown, ...rest: unknown[]): Promise<string> {
    return this.#createOne('schedule', job, rest, (options: ScheduleOptions) => {
      const runAt = dueDate(options);
      return runAt.getTime() <= Date.now()
        ? { name: 'Enqueued', reason: 'Scheduled time already passed' }
        : { name: 'Scheduled', runAt, reason: `Scheduled for ${runAt.toISOString()}` };
    });
  }

  /** A continuation: runs when job `parentId` succeeds (`Awaiting` until then); deleted if the parent is. */
  continueWith<A>(parentId: string, job: JobDefinition<A, any>, ...rest: Rest<A, EnqueueOptions<Transaction>>): Promise<string>;
  continueWith<T, M extends JobMethodName<T>>(
    parentId: string,
    job: JobClass<T>,
    ...rest: ClassRest<T, M, EnqueueOptions<Transaction>>
  ): Promise<string>;
  async continueWith(parentId: string, job: unknown, ...rest: unknown[]): Promise<string> {
    validateNonEmptyString(parentId, 'continueWith() parentId');
    return this.#createOne(
      'continueWith',
      job,
      rest,
      () => ({ name: 'Awaiting', reason: `Waiting for job ${parentId} to succeed` }),
      parentId,
    );
  }

  /** Enqueue many jobs of one kind in one transaction. Resolves to their ids, in order. */
  enqueueMany<A>(job: JobDefinition<A, any>, argsList: readonly A[], options?: EnqueueOptions<Transaction>): Promise<string[]>;
  enqueueMany<T, M extends JobMethodName<T>>(
    job: JobClass<T>,
    method: M,
    argsList: readonly JobMethodArgs<T, M>[],
    options?: EnqueueOptions<Transaction>,
  ): Promise<string[]>;
  async enqueueMany(job: unknown, ...rest: unknown[]): Promise<string[]> {
    const isClass = typeof job === 'function';
    const list = rest[isClass ? 1 : 0];
    if (!Array.isArray(list)) throw new ValidationError(`enqueueMany() expects an array of arguments; received ${describe(list)}`);
    const requests = list.map((args) => {
      const { invocation, options } = readInvocation<EnqueueOptions<Transaction>>(
        'enqueueMany',
        job,
        isClass ? [rest[0], args, rest[2]] : [args, rest[1]],
      );
      if (options.dedupKey !== undefined) throw new ValidationError('enqueueMany() does not take a dedupKey: it would apply to every job');
      if (options.debounce) {
        throw new ValidationError(
          'enqueueMany() does not take a debounce: every job would replace the one before (a definition may debounce by a key function of the arguments)',
        );
      }
      return jobRequest('enqueueMany', invocation, options, () => ({ name: 'Enqueued' }));
    });
    const transaction = (rest[isClass ? 2 : 1] as EnqueueOptions<Transaction> | undefined)?.transaction;
    const results = await this.#creator.create(requests, (jobs) => this.store.createJobs(jobs, transaction));
    return results!.map((result) => result.id);
  }

  /**
   * A batch: the jobs created in one transaction under one new batch id, for `continueWhenAll()` and
   * `getBatch()`. Each member is `{ job, args, options? }` or, for a class job, `{ job, method, args, options? }`.
   */
  batch<const E extends readonly BatchJob[]>(
    jobs: E & { readonly [K in keyof E]: BatchEntry<E[K]> },
    options?: BatchOptions<Transaction>,
  ): Promise<BatchCreated> {
    return createBatch({ store: this.store, creator: this.#creator }, jobs, options);
  }

  /**
   * A batch continuation: runs once every job of the batch (`batchId` from `batch()`, or job ids,
   * gathered into a new batch) has succeeded, or, with `when: 'finished'`, finished whatever its
   * outcome; `Awaiting` until then. With `when: 'succeeded'` (the default) it is deleted once every
   * member finished if some failed or were deleted. A job belongs to one batch at most.
   */
  continueWhenAll<A>(
    batch: string | readonly string[],
    job: JobDefinition<A, any>,
    ...rest: Rest<A, ContinueWhenAllOptions<Transaction>>
  ): Promise<string>;
  continueWhenAll<T, M extends JobMethodName<T>>(
    batch: string | readonly string[],
    job: JobClass<T>,
    ...rest: ClassRest<T, M, ContinueWhenAllOptions<Transaction>>
  ): Promise<string>;
  continueWhenAll(batch: string | readonly string[], job: unknown, ...rest: unknown[]): Promise<string> {
    return continueWhenAll({ store: this.store, creator: this.#creator }, batch, job, rest);
  }

  /** How many members of the batch are in each state, and in all; undefined for an unknown batch. */
  getBatch(batchId: string): Promise<BatchView | undefined> {
    return getBatch(this.store, batchId);
  }

  /** The job with its parsed arguments and result, or undefined. */
  async getJob(id: string): Promise<JobView | undefined> {
    const job = await this.store.getJob(id);
    return job && { ...job, args: parseArgs(job.argsJson), result: parseResult(job.resultJson) };
  }

  /** Every state the job went through, oldest first. */
  getHistory(id: string): Promise<StateRecord[]> {
    return this.store.getHistory(id);
  }

  /** Jobs newest first, filtered; the next page starts `before` the last id of this one. */
  async listJobs(query: ListJobsQuery = {}): Promise<JobRecord[]> {
    validateListJobsQuery(query);
    return this.store.listJobs(query);
  }

  /** Jobs whose id, type or arguments contain `query.text`, examining at most `scanLimit` jobs; continue from `next`. */
  async searchJobs(query: SearchJobsQuery): Promise<JobSearchPage> {
    resolveSearchJobsQuery(query);
    return this.store.searchJobs(query);
  }

  /** How many jobs are in each state, in all queues or in `filter.queue` (and of `filter.type`). */
  async countJobs(filter: CountJobsFilter = {}): Promise<Record<StateName, number>> {
    validateCountJobsFilter(filter);
    return this.store.countJobs(filter);
  }

  /** Per queue holding jobs: its counts per state and when its oldest waiting job became due. */
  queueStats(): Promise<QueueStats[]> {
    return this.store.queueStats();
  }

  /** Jobs that reached `Succeeded` or `Failed`, per minute, from the minute of `since` on (kept 24 hours at least). */
  async countOutcomesPerMinute(since: Date): Promise<MinuteOutcomes[]> {
    validateSince(since);
    return this.store.countOutcomesPerMinute(since);
  }

  /**
   * Delete a job: it will not run (again). A running job's `AbortSignal` fires. Resolves to false if
   * the job was already deleted; throws `JobNotFoundError` if there is no such job.
   */
  delete(id: string, reason = 'Deleted by user'): Promise<boolean> {
    return this.#moveTo(id, { name: 'Deleted', reason }, (state) => state !== 'Deleted');
  }

  /**
   * Enqueue a job again now (a failed, deleted, succeeded or scheduled one). Resolves to false if
   * the job is enqueued or running already, or if another unfinished job now holds its dedup key.
   */
  requeue(id: string, reason = 'Requeued by user'): Promise<boolean> {
    return this.#moveTo(id, { name: 'Enqueued', reason }, (state) => state !== 'Enqueued' && state !== 'Processing');
  }

  async #createOne(
    api: string,
    job: unknown,
    rest: unknown[],
    initialState: (options: any) => JobRequest['state'],
    parentId?: string,
  ): Promise<string> {
    const { invocation, options } = readInvocation<ScheduleOptions<Transaction>>(api, job, rest);
    const request = jobRequest(api, invocation, options, () => initialState(options), parentId === undefined ? {} : { parentId });
    const results = await this.#creator.create([request], (jobs) => this.store.createJobs(jobs, options.transaction));
    return results![0]!.id;
  }

  async #moveTo(
    id: string,
    candidate: { name: 'Deleted' | 'Enqueued'; reason: string },
    allowed: (state: StateName) => boolean,
  ): Promise<boolean> {
    // Retry if the job changed state between our read and our write (a worker finished it meanwhile).
    for (let tries = 0; tries < 5; tries++) {
      const job = await this.store.getJob(id);
      if (!job) throw new JobNotFoundError(id);
      if (!allowed(job.state)) return false;
      if (await this.#states.change(job, candidate)) return true;
    }
    return false;
  }
}

export function createClient<Transaction = never>(options: ClientOptions<Transaction>): Client<Transaction> {
  return new Client(options);
}

function dueDate(options: ScheduleOptions): Date {
  const hasAt = options.at !== undefined;
  if (hasAt === (options.delay !== undefined)) {
    throw new ValidationError(
      `schedule() needs exactly one of options.at (a Date) or options.delay (ms); received at=${describe(options.at)}, delay=${describe(options.delay)}`,
    );
  }
  const latest = Date.now() + LIMITS.maxScheduleAheadMs;
  if (hasAt) {
    if (!(options.at instanceof Date) || Number.isNaN(options.at.getTime())) {
      throw new ValidationError(`schedule() options.at must be a valid Date; received ${describe(options.at)}`);
    }
    if (options.at.getTime() > latest) {
      throw new ValidationError(
        `schedule() options.at must be at most 100 years ahead (${new Date(latest).toISOString()}); received ${describe(options.at)}`,
      );
    }
    return options.at;
  }
  // A delay beyond the horizon is a mistake, and far beyond it (Number.MAX_SAFE_INTEGER) no Date at all.
  const delay = options.delay;
  if (typeof delay !== 'number' || !Number.isInteger(delay) || delay < 0 || delay > LIMITS.maxScheduleAheadMs) {
    throw new ValidationError(
      `schedule() options.delay must be an integer from 0 to ${LIMITS.maxScheduleAheadMs} ms (100 years); received ${describe(delay)}`,
    );
  }
  return new Date(Date.now() + delay);
}

/** A stored result, parsed; undefined for none (or, written around the client, unreadable). */
function parseResult(json: string | undefined): unknown {
  if (json === undefined) return undefined;
  try {
    return JSON.parse(json);
  } catch {
    return undefined;
  }
}

function parseArgs(json: string): unknown[] | undefined {
  try {
    const args: unknown = JSON.parse(json);
    return Array.isArray(args) ? args : undefined;
  } catch {
    return undefined;
  }
}
