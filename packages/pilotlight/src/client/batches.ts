import type { JobCreator } from '../engine/job-creator.ts';
import { ValidationError } from '../errors.ts';
import type { JobClass, JobDefinition, JobMethodArgs, JobMethodName } from '../jobs/define-job.ts';
import type { Store } from '../storage/store.ts';
import type { BatchAwait, StateName } from '../types.ts';
import { uuidV7Generator } from '../util/uuid-v7.ts';
import { describe, validateNonEmptyString } from '../validation/validate.ts';
import type { EnqueueOptions } from './client.ts';
import { readInvocation } from './invocation.ts';
import { jobRequest } from './job-request.ts';

/**
 * The options of one member of `client.batch()`: those of `enqueue()` but a dedup key (a member
 * deduplicated onto another job would not be in the batch), a debounce (a replaced member would
 * leave it; `null` drops a definition's) and a transaction (the batch takes one for all).
 */
export type BatchJobOptions = Omit<EnqueueOptions, 'dedupKey' | 'debounce' | 'transaction'> & { readonly debounce?: null };

/** A function job in a batch: as `enqueue(job, args, options)`. */
export interface BatchFunctionJob<A> {
  readonly job: JobDefinition<A, any>;
  readonly args: A;
  readonly options?: BatchJobOptions;
}

/** A class job in a batch: as `enqueue(JobClass, 'method', args, options)`. */
export interface BatchClassJob<T, M extends JobMethodName<T>> {
  readonly job: JobClass<T>;
  readonly method: M;
  readonly args: JobMethodArgs<T, M>;
  readonly options?: BatchJobOptions;
}

/** Any member of a batch, before its own types are checked (`BatchEntry`). */
export type BatchJob =
  | { readonly job: JobDefinition<any, any>; readonly args: unknown; readonly options?: BatchJobOptions }
  | { readonly job: JobClass<any>; readonly method: string; readonly args: readonly unknown[]; readonly options?: BatchJobOptions };

/** What a member must be, given what it is: its arguments checked against its job, as enqueue's overloads do. */
export type BatchEntry<E> = E extends { readonly job: JobDefinition<infer A, any> }
  ? BatchFunctionJob<A>
  : E extends { readonly job: JobClass<infer T>; readonly method: infer M }
    ? M extends JobMethodName<T>
      ? BatchClassJob<T, M>
      : BatchClassJob<T, JobMethodName<T>>
    : never;

export interface BatchOptions<Transaction = never> {
  /** Create the batch inside this transaction of yours (see `EnqueueOptions.transaction`). */
  readonly transaction?: Transaction;
}

export interface BatchCreated {
  readonly batchId: string;
  /** The members' ids, in the order given. */
  readonly ids: string[];
}

export interface ContinueWhenAllOptions<Transaction = never> extends EnqueueOptions<Transaction> {
  /**
   * `'succeeded'`: the continuation runs once every member succeeded, and is deleted (its reason says
   * how many did not) once every member finished but some failed or were deleted; `'finished'`: it
   * runs once every member is Succeeded, Failed or Deleted. As Hangfire Pro's batch continuations,
   * which run on a succeeded batch unless told to run on any finished one.
   * @default 'succeeded'
   */
  readonly when?: BatchAwait['when'];
}

/** A batch as `client.getBatch()` reads it. */
export interface BatchView {
  readonly batchId: string;
  /** Members in each state. */
  readonly counts: Record<StateName, number>;
  /** Members in all (kept ones: members deleted by retention are no longer counted). */
  readonly total: number;
}

interface BatchDeps {
  readonly store: Store<any>;
  readonly creator: JobCreator;
}

const nextBatchId = uuidV7Generator();

/** `client.batch()`: every member created in one `createJobs`, under one new batch id. */
export async function createBatch(deps: BatchDeps, jobs: readonly BatchJob[], options: BatchOptions<unknown> = {}): Promise<BatchCreated> {
  if (!Array.isArray(jobs) || jobs.length === 0) {
    throw new ValidationError(
      `batch() expects a non-empty array of { job, args, options? } (or { job, method, args }); received ${describe(jobs)}`,
    );
  }
  const batchId = nextBatchId();
  const requests = jobs.map((entry: unknown, index) => {
    if (typeof entry !== 'object' || entry === null)
      throw new ValidationError(`batch() jobs[${index}] must be an object { job, args }; received ${describe(entry)}`);
    const { job, method, args, options: own } = entry as { job: unknown; method?: unknown; args: unknown; options?: unknown };
    const api = 'batch';
    const rest = typeof job === 'function' ? [method, args, own] : [args, own];
    const { invocation, options: memberOptions } = readInvocation<EnqueueOptions<unknown>>(api, job, rest);
    if (memberOptions.dedupKey !== undefined) {
      throw new ValidationError(
        `batch() jobs[${index}].options.dedupKey is not allowed: a member deduplicated onto another job would not be in the batch`,
      );
    }
    if (memberOptions.transaction !== undefined) {
      throw new ValidationError(`batch() jobs[${index}].options.transaction is not allowed: pass it once, as batch(jobs, { transaction })`);
    }
    return jobRequest(api, invocation, memberOptions, () => ({ name: 'Enqueued' }), { batchId });
  });
  const results = await deps.creator.create(requests, (newJobs) => deps.store.createJobs(newJobs, options?.transaction));
  return { batchId, ids: results!.map((result) => result.id) };
}

/**
 * `client.continueWhenAll()`: gathers the jobs `ids` into a new batch (or takes `batchId` as it is),
 * then creates the continuation, Awaiting the batch.
 */
export async function continueWhenAll(deps: BatchDeps, target: unknown, job: unknown, rest: readonly unknown[]): Promise<string> {
  const api = 'continueWhenAll';
  const { invocation, options } = readInvocation<ContinueWhenAllOptions<unknown>>(api, job, rest);
  const when = options.when ?? 'succeeded';
  if (when !== 'succeeded' && when !== 'finished') {
    throw new ValidationError(`continueWhenAll() options.when must be 'succeeded' or 'finished'; received ${describe(when)}`);
  }
  const batchId = await batchOf(deps.store, target, options.transaction !== undefined);
  const request = jobRequest(
    api,
    invocation,
    options,
    () => ({ name: 'Awaiting', reason: `Waiting for batch ${batchId} to ${when === 'succeeded' ? 'succeed' : 'finish'}` }),
    { awaitsBatch: { batchId, when } },
  );
  const results = await deps.creator.create([request], (jobs) => deps.store.createJobs(jobs, options.transaction));
  return results![0]!.id;
}

async function batchOf(store: Store<any>, target: unknown, inTransaction: boolean): Promise<string> {
  if (typeof target === 'string') {
    const batchId = validateNonEmptyString(target, 'continueWhenAll() batchId');
    if ((await getBatch(store, batchId)) === undefined) {
      throw new ValidationError(
        `continueWhenAll() batch ${describe(batchId)} has no jobs: pass the batchId that batch() returned, or job ids`,
      );
    }
    return batchId;
  }
  if (!Array.isArray(target) || target.length === 0) {
    throw new ValidationError(`continueWhenAll() expects a batch id or a non-empty array of job ids; received ${describe(target)}`);
  }
  if (inTransaction) {
    // Gathering the jobs into a batch is a write of its own, which a rollback would not undo.
    throw new ValidationError(
      'continueWhenAll(ids) does not take options.transaction: create the jobs with batch(jobs, { transaction }) and pass its batchId',
    );
  }
  const ids = target.map((id, index) => validateNonEmptyString(id, `continueWhenAll() ids[${index}]`));
  if (new Set(ids).size !== ids.length) throw new ValidationError('continueWhenAll() ids holds the same job id twice');
  const batchId = nextBatchId();
  await store.addToBatch(batchId, ids);
  return batchId;
}

/** The batch's counts per state and total; undefined for a batch with no (kept) member. */
export async function getBatch(store: Store<any>, batchId: string): Promise<BatchView | undefined> {
  validateNonEmptyString(batchId, 'getBatch() batchId');
  const counts = await store.countBatch(batchId);
  const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
  return total === 0 ? undefined : { batchId, counts, total };
}
