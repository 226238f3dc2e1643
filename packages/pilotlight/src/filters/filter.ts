import type { Store } from '../storage/store.ts';
import type { ConcurrencyLimit, JobRecord, RateLimit, RetryOptions, StateInput, StateName, StateRecord } from '../types.ts';

/**
 * A filter: optional hooks around job creation, execution and state changes, as in Hangfire.
 * Automatic retries, continuations and tracing are filters on this same interface.
 *
 * Hooks may be synchronous or return a promise. A hook that throws is reported to the logger
 * and never breaks the job, the worker or the caller.
 *
 * Order of the hooks for one attempt of a job, in a worker:
 * `onStateUnapplied(Enqueued)` → `onStateApplied(Processing)` → `onPerforming` → `aroundPerform`(handler) →
 * `onStateElection` → `onStateUnapplied(Processing)` → `onStateApplied(Succeeded | Failed | Scheduled …)` →
 * `onPerformed`. So `onPerformed` sees the state the attempt ended in, and everything an
 * attempt does falls between `onStateApplied(Processing)` and `onPerformed`.
 */
export interface JobFilter {
  /** Filters with a lower order run first (and last for `onCreated`, `onPerformed`). @default 0 */
  readonly order?: number;

  /** Client: a job is about to be stored. Add `metadata` here (for example a trace context). */
  onCreating?(context: CreatingContext): void | Promise<void>;
  /** Client: the job was stored (or not: see `created` and `error`). */
  onCreated?(context: CreatedContext): void | Promise<void>;

  /** Server: an attempt is about to run the job's handler. */
  onPerforming?(context: PerformingContext): void | Promise<void>;
  /**
   * Server: wraps the handler's execution; call `perform` exactly once and return its result. Use it
   * to run the handler inside an async context (an active span). If the hook throws before calling
   * `perform`, the handler runs anyway.
   */
  aroundPerform?(context: PerformingContext, perform: () => Promise<unknown>): Promise<unknown>;
  /** Server: the attempt is over; always called, after the attempt's final state was applied. */
  onPerformed?(context: PerformedContext): void | Promise<void>;

  /** State: a job is about to move to `candidate`; assign `candidate` to elect another state. */
  onStateElection?(context: ElectStateContext): void | Promise<void>;
  /** State: a job entered `newState`. */
  onStateApplied?(context: ApplyStateContext): void | Promise<void>;
  /** State: a job left `oldState`. */
  onStateUnapplied?(context: ApplyStateContext): void | Promise<void>;
}

/** Shared by every hook's context. */
export interface FilterContext {
  readonly store: Store;
  /**
   * A bag shared by the hooks of one operation: the creating/created/initial-state hooks of one
   * job creation, or every hook of one attempt. Filters keep per-operation data here (a span).
   */
  readonly items: Map<unknown, unknown>;
  /** The worker doing the work; undefined in a client. */
  readonly serverName: string | undefined;
  /**
   * Move another job (or this one) to a new state, through the same election and filters, if it
   * is still in the state it was read in.
   */
  changeState(job: JobRecord, candidate: StateInput): Promise<JobRecord | undefined>;
}

/** A job not yet stored. */
export interface PendingJob {
  readonly type: string;
  readonly method: string;
  readonly queue: string;
  readonly priority: number;
  readonly retry: RetryOptions;
  readonly initialState: StateInput;
  readonly parentId: string | undefined;
  readonly recurringId: string | undefined;
  readonly dedupKey: string | undefined;
  /** Flow control the job is created with, if any (see `JobRecord`). */
  readonly concurrency?: ConcurrencyLimit;
  readonly rateLimit?: RateLimit;
  readonly debounceKey?: string;
  /** The batch it is created in (`client.batch()`), if any. */
  readonly batchId?: string;
  /** `'schedule'` when a worker fires a recurring job's occurrence; `'client'` for every other creation. */
  readonly createdBy: 'client' | 'schedule';
}

export interface CreatingContext extends FilterContext {
  readonly job: PendingJob;
  /** Stored with the job, immutable once created. Keys and values are strings. */
  readonly metadata: Record<string, string>;
}

export interface CreatedContext extends CreatingContext {
  /** The new job's id; for a deduplicated job, the existing job's id. */
  readonly jobId: string | undefined;
  /** `false` when a job with the same dedup key was already unfinished, or creation failed. */
  readonly created: boolean;
  /** For a debounced job: the waiting job it replaced (now Deleted). */
  readonly replacedId?: string;
  /** Why creation failed, if it did (the error is also thrown to the caller). */
  readonly error: unknown;
}

export interface PerformingContext extends FilterContext {
  readonly job: JobRecord;
  readonly serverName: string;
  /** The attempt's signal (aborted on shutdown, deletion or timeout). */
  readonly signal: AbortSignal;
}

export interface PerformedContext extends PerformingContext {
  /** What the handler returned, if it succeeded. */
  readonly result: unknown;
  /** What the handler threw, if it failed (may be a non-Error value). */
  readonly error: unknown;
  readonly failed: boolean;
  /** The attempt was aborted (shutdown, deletion); not for a timeout, which fails the attempt (`error` is the `JobTimeoutError`). */
  readonly cancelled: boolean;
  /** The state the attempt ended in; undefined if the job had already been moved elsewhere. */
  readonly finalState: StateRecord | undefined;
}

export interface ElectStateContext extends FilterContext {
  readonly job: JobRecord;
  /** The state the job is in; undefined when the job is being created. */
  readonly currentState: StateName | undefined;
  /** The state the job will move to. Assign to elect another. */
  candidate: StateInput;
  /** For a failed attempt: what was thrown. */
  readonly error: unknown;
  /** When the change happens: the elected state is recorded at this time (compute due times from it). */
  readonly at: Date;
}

export interface ApplyStateContext extends FilterContext {
  /** The job after the change. */
  readonly job: JobRecord;
  /** The state left; undefined for a job's initial state. */
  readonly oldState: StateName | undefined;
  readonly newState: StateRecord;
}
