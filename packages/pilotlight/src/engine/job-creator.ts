import type { CreatedContext, CreatingContext, PendingJob } from '../filters/filter.ts';
import type { FilterPipeline } from '../filters/filter-pipeline.ts';
import { BATCH_UNFINISHED } from '../states/batch-filter.ts';
import { PARENT_STATE } from '../states/continuations-filter.ts';
import type { StateMachine } from '../states/state-machine.ts';
import type { CreateJobResult, NewJob } from '../storage/store.ts';
import type { BatchAwait, ConcurrencyLimit, JobCall, JobRecord, RateLimit, StateName, StateRecord } from '../types.ts';

/** Everything needed to create one job. */
export interface JobRequest extends JobCall {
  readonly state: Omit<StateRecord, 'at'>;
  readonly dedupKey?: string;
  readonly parentId?: string;
  readonly recurringId?: string;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly concurrency?: ConcurrencyLimit;
  readonly rateLimit?: RateLimit;
  readonly debounceKey?: string;
  readonly batchId?: string;
  readonly awaitsBatch?: BatchAwait;
  /** Set by a worker firing a recurring job's occurrence. @default 'client' */
  readonly createdBy?: 'client' | 'schedule';
}

/** Stores new jobs; `undefined` means none was created (a recurring occurrence fired elsewhere). */
export type InsertJobs = (jobs: NewJob[]) => Promise<CreateJobResult[] | undefined>;

/**
 * Creates jobs through the client filters (for a client's enqueue and a worker firing a recurring
 * job alike): `onCreating` (which may add metadata), the insert, the
 * initial state's `onStateApplied`, then `onCreated`, which runs even when the insert failed.
 */
export class JobCreator {
  readonly #pipeline: FilterPipeline;
  readonly #states: StateMachine;

  constructor(pipeline: FilterPipeline, states: StateMachine) {
    this.#pipeline = pipeline;
    this.#states = states;
  }

  async create(requests: readonly JobRequest[], insert: InsertJobs): Promise<CreateJobResult[] | undefined> {
    const contexts: CreatingContext[] = [];
    for (const request of requests) {
      const job: PendingJob = {
        type: request.type,
        method: request.method,
        queue: request.queue,
        priority: request.priority,
        retry: request.retry,
        initialState: request.state,
        parentId: request.parentId,
        recurringId: request.recurringId,
        dedupKey: request.dedupKey,
        createdBy: request.createdBy ?? 'client',
        ...(request.concurrency && { concurrency: request.concurrency }),
        ...(request.rateLimit && { rateLimit: request.rateLimit }),
        ...(request.debounceKey !== undefined && { debounceKey: request.debounceKey }),
        ...(request.batchId !== undefined && { batchId: request.batchId }),
      };
      const context: CreatingContext = { ...this.#states.context(), job, metadata: { ...request.metadata } };
      await this.#pipeline.run('onCreating', context);
      contexts.push(context);
    }
    // Taken after onCreating, so the initial state falls inside a creation span started there.
    const now = new Date();
    const newJobs = requests.map((request, i): NewJob => {
      const state: StateRecord = { ...request.state, at: now };
      const { createdBy: _, ...stored } = request;
      return {
        ...stored,
        state,
        runAt: state.runAt ?? now,
        metadata: contexts[i]!.metadata,
      };
    });
    let results: CreateJobResult[] | undefined;
    try {
      results = await insert(newJobs);
    } catch (error) {
      for (const context of contexts) await this.#created(context, undefined, error);
      throw error;
    }
    for (let i = 0; i < contexts.length; i++) {
      const result = results?.[i];
      if (result?.created) {
        if (result.parentState) contexts[i]!.items.set(PARENT_STATE, result.parentState);
        if (result.batchUnfinished !== undefined) contexts[i]!.items.set(BATCH_UNFINISHED, result.batchUnfinished);
        if (result.replacedId !== undefined) await this.#replaced(result.replacedId);
        await this.#states.applied({
          ...contexts[i]!,
          job: createdRecord(newJobs[i]!, result.id),
          oldState: undefined,
          newState: newJobs[i]!.state,
        });
      }
      await this.#created(contexts[i]!, result, undefined);
    }
    return results;
  }

  /**
   * The store moved the waiting job a debounced job replaced to Deleted: its state filters run here
   * (its transition span, its continuations deleted, its batch released), as for any other change.
   */
  async #replaced(id: string): Promise<void> {
    const context = this.#states.context();
    const [job, history] = await Promise.all([context.store.getJob(id), context.store.getHistory(id)]);
    const deleted = history.at(-1);
    if (!job || job.state !== 'Deleted' || deleted?.name !== 'Deleted') return;
    const oldState: StateName | undefined = history.at(-2)?.name;
    await this.#states.applied({ ...context, job, oldState, newState: deleted });
  }

  #created(context: CreatingContext, result: CreateJobResult | undefined, error: unknown): void | Promise<void> {
    const created: CreatedContext = {
      ...context,
      jobId: result?.id,
      created: result?.created ?? false,
      error,
      ...(result?.replacedId !== undefined && { replacedId: result.replacedId }),
    };
    return this.#pipeline.run('onCreated', created);
  }
}

/** The record of a job just inserted, without reading it back. */
function createdRecord(job: NewJob, id: string): JobRecord {
  return {
    id,
    type: job.type,
    method: job.method,
    argsJson: job.argsJson,
    queue: job.queue,
    priority: job.priority,
    state: job.state.name,
    stateReason: job.state.reason,
    runAt: job.runAt,
    createdAt: job.state.at,
    stateChangedAt: job.state.at,
    attempt: 0,
    retryCount: 0,
    retry: job.retry,
    parentId: job.parentId,
    hasContinuations: false,
    dedupKey: job.dedupKey,
    metadata: job.metadata,
    serverName: undefined,
    leaseUntil: undefined,
    progress: undefined,
    recurringId: job.recurringId,
    concurrency: job.concurrency,
    rateLimit: job.rateLimit,
    debounceKey: job.debounceKey,
    batchId: job.batchId,
    awaitsBatch: job.awaitsBatch,
    resultJson: undefined,
  };
}
