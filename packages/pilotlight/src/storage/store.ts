import type {
  BatchAwait,
  ConcurrencyLimit,
  JobCall,
  JobProgress,
  JobRecord,
  RateLimit,
  RecurringJobRecord,
  ServerRecord,
  StateName,
  StateRecord,
} from '../types.ts';

/**
 * The only way the engine reaches storage. Every store (embedded SQLite, PostgreSQL, ...) implements
 * it and passes the same contract suite (`pilotlight/testing`).
 *
 * The store keeps data and makes each call atomic; it makes no decisions. Which state a job moves
 * to is decided by the engine (state election filters) and handed to `transition()` with a guard,
 * so that two processes racing on one job cannot both win.
 */
/**
 * `Transaction`: what `createJobs()` takes to write jobs inside the application's own database
 * transaction (a `pg` client for the PostgreSQL store); `never` for stores that cannot (SQLite).
 */
export interface Store<Transaction = never> {
  /** Create the schema or upgrade it. Safe to call from several processes at once. */
  migrate(): Promise<void>;
  /** Release connections, watchers and timers. Idempotent. */
  close(): Promise<void>;

  /**
   * Insert jobs in one transaction. A job whose `dedupKey` is held by an unfinished job is not
   * inserted: its result names the existing job. A continuation marks its parent as having
   * continuations and reports the parent's state at that moment; an unknown parent throws
   * `JobNotFoundError` and nothing is written.
   *
   * With `transaction`, the writes are made in that transaction of the caller, which the caller
   * commits or rolls back: the jobs exist if and only if it commits.
   *
   * A job with a `debounceKey` replaces the waiting (Enqueued or Scheduled) job that holds the same
   * key, if any: that job moves to `Deleted` (reason `Debounced: replaced by job <new id>`, in its
   * history) in the same transaction, and the result's `replacedId` names it; it expires after the
   * default deleted retention (`debouncedJobExpiry()`: the store does not know the workers'
   * `retention.deleted`). At most one waiting job holds a debounce key, whatever the number of
   * racing producers (a Processing job with the key does not count: the new job waits behind it). A
   * job that a transition brings back to Enqueued or Scheduled (a retry, a requeue) while another
   * job waits with its debounce key still moves, and carries on without the key. A job with
   * `awaitsBatch` reports how many members of that batch were unfinished when it was stored
   * (`batchUnfinished`).
   */
  createJobs(jobs: readonly NewJob[], transaction?: Transaction): Promise<CreateJobResult[]>;
  getJob(id: string): Promise<JobRecord | undefined>;
  /** The job's state history, oldest first. */
  getHistory(id: string): Promise<StateRecord[]>;
  /** Jobs newest first (highest id first), filtered; page deeper with `before` (keyset pagination). */
  listJobs(query: ListJobsQuery): Promise<JobRecord[]>;
  /**
   * Jobs whose id, type or arguments contain `query.text`, newest first. The scan is bounded: it
   * examines at most `scanLimit` jobs (those the other filters select), so that a search costs the
   * same whatever the store holds; `next` says where to continue.
   */
  searchJobs(query: SearchJobsQuery): Promise<JobSearchPage>;
  /**
   * How many jobs are in each state, in all queues or in `filter.queue`, of all types or of
   * `filter.type`. From counters the store keeps per queue, type and state with every write: as fast
   * with a million jobs as with ten.
   */
  countJobs(filter?: CountJobsFilter): Promise<Record<StateName, number>>;
  /** Per queue that holds jobs: how many in each state and when its oldest `Enqueued` job became due. From counters. */
  queueStats(): Promise<QueueStats[]>;
  /**
   * Jobs that reached `Succeeded` or `Failed`, per minute, for the minutes from `since` (rounded
   * down to its minute) on, oldest first; minutes with neither are left out. Kept by the store as
   * counters at least 24 hours, so they survive the jobs' own deletion.
   */
  countOutcomesPerMinute(since: Date): Promise<MinuteOutcomes[]>;

  /**
   * Atomically move up to `limit` `Enqueued` jobs (every enqueued job is due) of the given queues to
   * `Processing`, highest priority first, then oldest `runAt`; increment their `attempt`, give them a
   * lease, clear their progress and record the state in their history.
   */
  claimJobs(request: ClaimRequest): Promise<JobRecord[]>;
  /*
   * Flow control, enforced by `claimJobs()` (and the claim of `transitionAndClaim()`) across every
   * worker and process sharing the store:
   * - a paused queue (`QueueSettings.paused`) is passed over: none of its jobs is claimed;
   * - a queue's `concurrencyLimit`: at most that many of its jobs are Processing at once, this
   *   claim's included;
   * - a job's `concurrency` ({ key, limit }): claimed only while fewer than `limit` jobs with that key
   *   are Processing (in any queue), this claim's included. A job whose key is at its limit is
   *   passed over, never waited on: the jobs behind it (other keys, no key) are claimed in its place;
   * - a job's `rateLimit` ({ key, max, per }), and a queue's `rateLimit` for all its jobs: claimed only
   *   if fewer than `max` jobs of that key (queue) started in the current window, a window of `per`
   *   ms that opens at the first start after the previous one closed. When a claim passes over jobs
   *   for a rate limit, the store emits a `wake` event for their queue when the window closes (a
   *   timer of its own, unref'd, cleared by `close()`), so that workers claim again without polling.
   * A key frees up whenever a job leaves Processing (outcome, lease expiry, deletion, hand-back).
   */
  /**
   * Apply state changes, each only if its guard still holds, in one transaction. Returns, for each,
   * the job after the change, or `undefined` when the guard failed (someone else moved the job) or
   * the change would make the job a second unfinished holder of its dedup key. One change that
   * cannot apply never fails the others.
   */
  transition(changes: readonly Transition[]): Promise<(JobRecord | undefined)[]>;
  /**
   * `transition(changes)` then, if `claim` is given, `claimJobs(claim)`, in one transaction: a busy
   * worker records its finished attempts and takes its next jobs in a single commit.
   */
  transitionAndClaim(changes: readonly Transition[], claim: ClaimRequest | undefined): Promise<TransitionAndClaimResult>;
  /** Record progress of a running attempt. Ignored if the attempt is no longer running. */
  setProgress(id: string, attempt: number, progress: JobProgress): Promise<void>;

  /** `Scheduled` jobs whose time has come. */
  listDueJobs(now: Date, limit: number): Promise<JobRecord[]>;
  /** `Processing` jobs whose lease ran out: their worker is gone. */
  listExpiredLeases(now: Date, limit: number): Promise<JobRecord[]>;
  /** `Awaiting` continuations of one job. */
  listContinuations(parentId: string): Promise<JobRecord[]>;
  /** `Awaiting` batch continuations of one batch (`awaitsBatch.batchId`). */
  listBatchContinuations(batchId: string): Promise<JobRecord[]>;
  /** How many members of a batch are in each state (all zero for an unknown batch). */
  countBatch(batchId: string): Promise<Record<StateName, number>>;
  /**
   * Make existing jobs members of a new batch (`continueWhenAll(ids)`), in one transaction. Throws
   * `JobNotFoundError` for an unknown id and a `PilotlightError` with code `BATCH_CONFLICT` for a job
   * already in a batch; then nothing is written.
   */
  addToBatch(batchId: string, jobIds: readonly string[]): Promise<void>;
  /**
   * `Awaiting` batch continuations whose batch has no unfinished member left: left behind if a
   * process died between finishing the last member and releasing its continuations.
   */
  listReleasableBatchContinuations(limit: number): Promise<JobRecord[]>;
  /**
   * `Awaiting` continuations whose parent is already `Succeeded` or `Deleted` (or gone): left
   * behind if a process died between finishing a parent and releasing its continuations.
   */
  listReleasableContinuations(limit: number): Promise<JobRecord[]>;
  /** Delete finished jobs whose retention ran out, at most `limit` of them. Returns how many. */
  deleteExpiredJobs(now: Date, limit: number): Promise<number>;

  /**
   * Record a worker's heartbeat and extend the leases of the jobs it is running. Returns the ids
   * of jobs still `Processing` under this worker, so it can abort the ones it lost.
   */
  heartbeat(server: ServerRecord, leaseUntil: Date): Promise<string[]>;
  removeServer(name: string): Promise<void>;
  listServers(): Promise<ServerRecord[]>;
  /** Forget workers that stopped heartbeating before `before`. Returns how many. */
  removeStaleServers(before: Date): Promise<number>;

  upsertRecurring(job: NewRecurringJob): Promise<void>;
  removeRecurring(id: string): Promise<boolean>;
  getRecurring(id: string): Promise<RecurringJobRecord | undefined>;
  listRecurring(): Promise<RecurringJobRecord[]>;
  listDueRecurring(now: Date, limit: number): Promise<RecurringJobRecord[]>;
  /**
   * Fire an occurrence: if the recurring job's `nextRunAt` still equals `expectNextRunAt`, move it
   * to `nextRunAt` and insert `jobs`, in one transaction. Returns `undefined` when another process
   * fired this occurrence first, so every occurrence fires once across all workers.
   */
  fireRecurring(fire: FireRecurring): Promise<CreateJobResult[] | undefined>;

  /** Every queue with stored settings (paused, limits), by name. */
  listQueueSettings(): Promise<QueueSettings[]>;
  /**
   * Change a queue's stored settings (fields absent are kept; `null` clears a limit) and return
   * them. Resuming a queue, or raising or clearing a limit, wakes workers (`wake` for that queue, and
   * in other processes where the store can tell).
   */
  setQueueSettings(queue: string, change: QueueSettingsChange): Promise<QueueSettings>;

  /**
   * Listen for changes that may concern workers: jobs became available (also written by other
   * processes, where the store can tell), or a job changed state. Returns an unsubscribe function.
   */
  subscribe(listener: (event: StoreEvent) => void): () => void;
}

export interface NewJob extends JobCall {
  /** The initial state (`Enqueued`, `Scheduled` or `Awaiting`) with the time it was decided. */
  readonly state: StateRecord;
  readonly runAt: Date;
  readonly dedupKey?: string;
  readonly parentId?: string;
  readonly recurringId?: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly concurrency?: ConcurrencyLimit;
  readonly rateLimit?: RateLimit;
  readonly debounceKey?: string;
  readonly batchId?: string;
  /** A batch continuation (state `Awaiting`): what it waits for. */
  readonly awaitsBatch?: BatchAwait;
}

export interface CreateJobResult {
  readonly id: string;
  /** `false` when an unfinished job already held the dedup key: `id` is that job's. */
  readonly created: boolean;
  /** For a continuation: the parent's state when the continuation was stored. */
  readonly parentState?: StateName;
  /** For a debounced job: the waiting job it replaced (now Deleted). */
  readonly replacedId?: string;
  /** For a batch continuation: how many members of its batch were unfinished when it was stored. */
  readonly batchUnfinished?: number;
}

export interface ListJobsQuery {
  readonly state?: StateName;
  readonly queue?: string;
  readonly type?: string;
  /** Only the members of this batch. */
  readonly batchId?: string;
  /** Only jobs older than this job id (the last id of the previous page): keyset pagination, fast at any depth. */
  readonly before?: string;
  /** @default 100 */
  readonly limit?: number;
  /** Skip this many (newest first). Slow deep into a large store: prefer `before`. @default 0 */
  readonly offset?: number;
}

export interface SearchJobsQuery {
  /** Matched as a case-sensitive substring of the job's id, type and JSON arguments. Not empty. */
  readonly text: string;
  readonly state?: StateName;
  readonly queue?: string;
  readonly type?: string;
  /** Only jobs older than this job id: where the previous page's `next` said to continue. */
  readonly before?: string;
  /** At most this many matches. @default 50 */
  readonly limit?: number;
  /** At most this many jobs (selected by the other filters) are examined. @default 10000 */
  readonly scanLimit?: number;
}

export interface JobSearchPage {
  /** The matches, newest first. */
  readonly jobs: JobRecord[];
  /**
   * The id to pass as `before` to search older jobs; `undefined` when the scan reached the oldest
   * job (nothing older is left to examine).
   */
  readonly next: string | undefined;
}

export interface CountJobsFilter {
  readonly queue?: string;
  readonly type?: string;
}

export interface QueueStats {
  readonly queue: string;
  readonly counts: Record<StateName, number>;
  /** When the queue's oldest waiting (`Enqueued`) job became due; `undefined` when none waits. */
  readonly oldestEnqueuedAt: Date | undefined;
}

export interface MinuteOutcomes {
  /** The start of the minute (UTC). */
  readonly minute: Date;
  readonly succeeded: number;
  readonly failed: number;
}

export interface ClaimRequest {
  readonly queues: readonly string[];
  readonly limit: number;
  readonly serverName: string;
  readonly now: Date;
  readonly leaseUntil: Date;
}

export interface Transition {
  readonly id: string;
  /** The change applies only if the job is still in this state (and attempt, and worker). */
  readonly expect: {
    readonly state: StateName;
    readonly attempt?: number;
    readonly serverName?: string;
  };
  readonly to: StateRecord;
  /** New due time (`Scheduled`, `Enqueued`). Unchanged when absent. */
  readonly runAt?: Date;
  /** New `retryCount`. Unchanged when absent. */
  readonly retryCount?: number;
  /** New `attempt` (a job handed back on shutdown gets its attempt back). Unchanged when absent. */
  readonly attempt?: number;
  /** With `to` Succeeded: what the handler returned, as JSON (stored as the job's `resultJson`). */
  readonly resultJson?: string;
  /** When a finished job may be deleted; `null` keeps it. Cleared when absent. */
  readonly expiresAt?: Date | null;
  /**
   * The job as the caller read it. When the guard pins one attempt (`expect.attempt` and
   * `expect.serverName`), nothing but `hasContinuations` and `progress` can have changed since, so
   * a store may build its result from this instead of reading the whole row back.
   */
  readonly job?: JobRecord;
}

export interface TransitionAndClaimResult {
  /** As `transition()` returns them, in order. */
  readonly transitioned: (JobRecord | undefined)[];
  /** As `claimJobs()` returns them; empty without a claim. */
  readonly claimed: JobRecord[];
}

export type NewRecurringJob = Pick<RecurringJobRecord, keyof JobCall | 'id' | 'cron' | 'timeZone' | 'misfire' | 'nextRunAt'>;

export interface FireRecurring {
  readonly id: string;
  readonly expectNextRunAt: Date;
  readonly nextRunAt: Date;
  readonly firedAt: Date;
  readonly jobs: readonly NewJob[];
}

/** A queue's stored settings, obeyed by every worker. */
export interface QueueSettings {
  readonly queue: string;
  /** No job of the queue is claimed while paused. */
  readonly paused: boolean;
  /** At most this many of its jobs run at once, across every worker; undefined: no limit. */
  readonly concurrencyLimit: number | undefined;
  /** At most `max` of its jobs start per `per` ms, across every worker; undefined: no limit. */
  readonly rateLimit: { readonly max: number; readonly per: number } | undefined;
  readonly updatedAt: Date;
}

/** A change to a queue's settings: absent fields are kept, `null` clears a limit. */
export interface QueueSettingsChange {
  readonly paused?: boolean;
  readonly concurrencyLimit?: number | null;
  readonly rateLimit?: { readonly max: number; readonly per: number } | null;
}

export type StoreEvent =
  /** Jobs may be available to claim (`queue` when known). */
  | { readonly type: 'wake'; readonly queue?: string }
  /** A job changed state in this process. */
  | { readonly type: 'state'; readonly jobId: string; readonly from: StateName; readonly to: StateName };
