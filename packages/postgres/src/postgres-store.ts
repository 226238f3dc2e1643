import pg from 'pg';
import { JobStates } from 'pilotlight';
import type { JobProgress, JobRecord, ListJobsQuery, RecurringJobRecord, ServerRecord, StateName, StateRecord, Store } from 'pilotlight';
import type {
  ClaimRequest,
  CountJobsFilter,
  CreateJobResult,
  FireRecurring,
  JobSearchPage,
  MinuteOutcomes,
  NewJob,
  NewRecurringJob,
  QueueSettings,
  QueueSettingsChange,
  QueueStats,
  SearchJobsQuery,
  StoreEvent,
  Transition,
  TransitionAndClaimResult,
} from 'pilotlight/store-kit';
import { migrate } from './migrations.ts';
import { assertTransaction, inTransaction, retryDeadlock } from './transactions.ts';
import { toRowId } from './rows.ts';
import { WakeListener } from './wake-listener.ts';
import { JobCountDeltas, resolveSearchJobsQuery, StoreClosedError, StoreListeners } from 'pilotlight/store-kit';
import { applyTransition, insertPlainJobs, isPlainJob, lockOrder } from './job-writes.ts';
import { enqueuedQueues, insertJobs, type InsertedJobs } from './insert-jobs.ts';
import { getHistory, getJob, listContinuations, listDueJobs, listExpiredLeases, listReleasableContinuations } from './job-reads.ts';
import { notifyQueues } from './notify.ts';
import { claimJobs, type InTransaction } from './claim-sql.ts';
import type { FlowControl } from './flow-claim.ts';
import { WindowWakes } from './rate-limit-wakes.ts';
import { deleteClosedRateWindows } from './rate-limit-sql.ts';
import { freesJobs, listQueueSettings, writeQueueSettings } from './queue-settings-sql.ts';
import { addToBatch, countBatch, listBatchContinuations, listReleasableBatchContinuations } from './batch-sql.ts';
import { finishAndClaim, isWorkerBatch } from './finish-and-claim.ts';
import { RecentFlowControl } from './recent-flow-control.ts';
import { CounterReads, foldCounters, writeDeltas } from './counters.ts';
import { deleteExpiredJobs } from './expiry-sql.ts';
import { listJobs, searchJobs } from './job-listing.ts';
import { fireRecurring, getRecurring, listDueRecurring, listRecurring, removeRecurring, upsertRecurring } from './recurring-sql.ts';
import { listServers, recordHeartbeat, removeServer, removeStaleServers } from './servers-sql.ts';

/** The PostgreSQL store: any number of processes on any number of machines share one database. */
export class PostgresStore implements Store<pg.ClientBase> {
  readonly schema: string;
  readonly #pool: pg.Pool;
  readonly #ownsPool: boolean;
  readonly #s: string; // the quoted schema, for SQL text
  readonly #channel: string;
  readonly #listeners = new StoreListeners();
  readonly #wake: WakeListener;
  readonly #counters: CounterReads;
  readonly #windowWakes: WindowWakes;
  readonly #flow: FlowControl;
  #closing: Promise<void> | undefined;

  /** Use `createPostgresStore()`, which validates the options and migrates. */
  constructor(options: {
    pool: pg.Pool;
    ownsPool: boolean;
    schema: string;
    connectListener: () => Promise<{ client: pg.ClientBase; release(destroy: boolean): void }>;
  }) {
    this.schema = options.schema;
    this.#pool = options.pool;
    this.#ownsPool = options.ownsPool;
    this.#s = quoteIdentifier(options.schema);
    this.#channel = `${options.schema}_wake`;
    this.#counters = new CounterReads(options.pool, this.#s, options.schema);
    this.#windowWakes = new WindowWakes((queue) => this.#emit({ type: 'wake', queue }));
    this.#flow = {
      recent: new RecentFlowControl(),
      rateLimited: (window, delayMs, queue) => this.#windowWakes.arm(window, delayMs, queue),
    };
    this.#wake = new WakeListener({
      channel: this.#channel,
      connect: options.connectListener,
      onNotification: (queue) => this.#emit(queue ? { type: 'wake', queue } : { type: 'wake' }),
      // Notifications sent while the listener was down are lost: tell workers to look anyway.
      onReconnected: () => this.#emit({ type: 'wake' }),
    });
  }

  /** Starts the listener; called once by `createPostgresStore()` after migrating. */
  async start(): Promise<void> {
    await this.#wake.start();
  }

  async migrate(): Promise<void> {
    await this.#transaction((client) => migrate(client, this.schema, this.#s));
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#listeners.clear();
      this.#windowWakes.clear();
      await this.#wake.stop();
      if (this.#ownsPool) await this.#pool.end();
    })();
    return this.#closing;
  }

  /**
   * With `transaction` (a `pg` client inside BEGIN, see `EnqueueOptions.transaction`), the jobs are
   * written in the caller's transaction: they exist, and workers are notified, if and only if it
   * commits.
   */
  async createJobs(jobs: readonly NewJob[], transaction?: pg.ClientBase): Promise<CreateJobResult[]> {
    this.#assertOpen();
    if (transaction !== undefined) assertTransaction(transaction);
    const plain = jobs.every(isPlainJob);
    if (transaction) {
      // Nothing to wake here: the caller's commit is what makes the jobs visible, and the NOTIFY
      // sent with it reaches this process's workers through LISTEN like any other.
      return plain
        ? insertPlainJobs(transaction, this.#s, this.#channel, jobs)
        : (await insertJobs(transaction, this.#s, this.#channel, jobs)).created;
    }
    if (plain) {
      const results = await retryDeadlock(() => insertPlainJobs(this.#pool, this.#s, this.#channel, jobs));
      this.#wakeLocally(enqueuedQueues(jobs, results));
      return results;
    }
    const inserted = await this.#transaction((client) => insertJobs(client, this.#s, this.#channel, jobs));
    this.#announce(inserted);
    return inserted.created;
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    this.#assertOpen();
    return getJob(this.#pool, this.#s, id);
  }

  async getHistory(id: string): Promise<StateRecord[]> {
    this.#assertOpen();
    return getHistory(this.#pool, this.#s, id);
  }

  async listJobs(query: ListJobsQuery): Promise<JobRecord[]> {
    this.#assertOpen();
    return listJobs(this.#pool, this.#s, query);
  }

  async searchJobs(query: SearchJobsQuery): Promise<JobSearchPage> {
    const search = resolveSearchJobsQuery(query);
    this.#assertOpen();
    return searchJobs(this.#pool, this.#s, search);
  }

  async countJobs(filter: CountJobsFilter = {}): Promise<Record<StateName, number>> {
    this.#assertOpen();
    return this.#counters.countJobs(filter);
  }

  async queueStats(): Promise<QueueStats[]> {
    this.#assertOpen();
    return this.#counters.queueStats();
  }

  async countOutcomesPerMinute(since: Date): Promise<MinuteOutcomes[]> {
    this.#assertOpen();
    return this.#counters.countOutcomesPerMinute(since);
  }

  async claimJobs(request: ClaimRequest): Promise<JobRecord[]> {
    // One statement, atomic by itself, no transaction needed; under flow control, a transaction of its own.
    this.#assertOpen();
    if (request.limit <= 0) return []; // (LIMIT refuses a negative count)
    return claimJobs(this.#pool, this.#s, request, this.#flow, (work) => this.#transaction(work));
  }

  async transition(changes: readonly Transition[]): Promise<(JobRecord | undefined)[]> {
    return (await this.transitionAndClaim(changes, undefined)).transitioned;
  }

  async transitionAndClaim(changes: readonly Transition[], wanted: ClaimRequest | undefined): Promise<TransitionAndClaimResult> {
    // A worker with no slot free asks for nothing (LIMIT refuses a negative count).
    const claim = wanted && wanted.limit > 0 ? wanted : undefined;
    if (isWorkerBatch(changes)) {
      // The hot path: no job becomes Enqueued, so there is nothing to NOTIFY or wake.
      const result = await retryDeadlock(() => {
        this.#assertOpen();
        return finishAndClaim(this.#pool, this.#s, changes, claim, this.#flow, (work) => this.#transaction(work));
      });
      this.#emitStates(changes, result.transitioned);
      return result;
    }
    const requeuedQueues = (transitioned: (JobRecord | undefined)[]) =>
      transitioned.flatMap((job, i) => (job && changes[i]!.to.name === JobStates.Enqueued ? [job.queue] : []));
    const result = await this.#transaction(async (client) => {
      // Rows are locked in ascending id order, whatever the order of the batch: two batches touching
      // the same jobs (a worker finishing them, maintenance requeueing them) then cannot deadlock.
      const transitioned: (JobRecord | undefined)[] = new Array(changes.length).fill(undefined);
      const deltas = new JobCountDeltas();
      for (const i of lockOrder(changes)) transitioned[i] = await applyTransition(client, this.#s, changes[i]!, deltas);
      await writeDeltas(client, this.#s, deltas);
      await notifyQueues(client, this.#channel, requeuedQueues(transitioned));
      // Under flow control, the claim's locks are this transaction's.
      const inThis: InTransaction = (work) => work(client);
      const claimed = claim ? await claimJobs(client, this.#s, claim, this.#flow, inThis) : [];
      return { transitioned, claimed };
    });
    this.#emitStates(changes, result.transitioned);
    this.#wakeLocally(requeuedQueues(result.transitioned));
    return result;
  }

  /** What inserting jobs one at a time did, to this process's listeners: wakes, and the jobs debounced jobs replaced (now Deleted). */
  #announce(inserted: InsertedJobs): void {
    this.#wakeLocally(inserted.wakeQueues);
    for (const { id, from } of inserted.replaced) this.#emit({ type: 'state', jobId: id, from, to: JobStates.Deleted });
  }

  #emitStates(changes: readonly Transition[], transitioned: readonly (JobRecord | undefined)[]): void {
    transitioned.forEach((job, i) => {
      if (!job) return;
      const change = changes[i]!;
      this.#emit({ type: 'state', jobId: change.id, from: change.expect.state, to: change.to.name });
    });
  }

  async setProgress(id: string, attempt: number, progress: JobProgress): Promise<void> {
    const rowId = toRowId(id);
    if (rowId === undefined) return;
    this.#assertOpen();
    await this.#pool.query(`UPDATE ${this.#s}.jobs SET progress = $1 WHERE id = $2 AND attempt = $3 AND state = 'Processing'`, [
      JSON.stringify(progress),
      rowId,
      attempt,
    ]);
  }

  async listDueJobs(now: Date, limit: number): Promise<JobRecord[]> {
    this.#assertOpen();
    return listDueJobs(this.#pool, this.#s, now, limit);
  }

  async listExpiredLeases(now: Date, limit: number): Promise<JobRecord[]> {
    this.#assertOpen();
    return listExpiredLeases(this.#pool, this.#s, now, limit);
  }

  async listContinuations(parentId: string): Promise<JobRecord[]> {
    this.#assertOpen();
    return listContinuations(this.#pool, this.#s, parentId);
  }

  async listReleasableContinuations(limit: number): Promise<JobRecord[]> {
    this.#assertOpen();
    return listReleasableContinuations(this.#pool, this.#s, limit);
  }

  async listBatchContinuations(batchId: string): Promise<JobRecord[]> {
    this.#assertOpen();
    return listBatchContinuations(this.#pool, this.#s, batchId);
  }

  async countBatch(batchId: string): Promise<Record<StateName, number>> {
    this.#assertOpen();
    return countBatch(this.#pool, this.#s, batchId);
  }

  async addToBatch(batchId: string, jobIds: readonly string[]): Promise<void> {
    await this.#transaction((client) => addToBatch(client, this.#s, batchId, jobIds));
  }

  async listReleasableBatchContinuations(limit: number): Promise<JobRecord[]> {
    this.#assertOpen();
    return listReleasableBatchContinuations(this.#pool, this.#s, limit);
  }

  async deleteExpiredJobs(now: Date, limit: number): Promise<number> {
    this.#assertOpen();
    const deleted = await deleteExpiredJobs(this.#pool, this.#s, now, limit);
    // Every worker's maintenance calls this on every pass: where the pending count changes are
    // folded in, and closed rate-limit windows forgotten.
    await foldCounters(this.#pool, this.#s, this.schema, now);
    await deleteClosedRateWindows(this.#pool, this.#s, now, limit);
    return deleted;
  }

  async heartbeat(server: ServerRecord, leaseUntil: Date): Promise<string[]> {
    return this.#transaction((client) => recordHeartbeat(client, this.#s, server, leaseUntil));
  }

  async removeServer(name: string): Promise<void> {
    this.#assertOpen();
    await removeServer(this.#pool, this.#s, name);
  }

  async listServers(): Promise<ServerRecord[]> {
    this.#assertOpen();
    return listServers(this.#pool, this.#s);
  }

  async removeStaleServers(before: Date): Promise<number> {
    this.#assertOpen();
    return removeStaleServers(this.#pool, this.#s, before);
  }

  async upsertRecurring(job: NewRecurringJob): Promise<void> {
    this.#assertOpen();
    await upsertRecurring(this.#pool, this.#s, job);
  }

  async removeRecurring(id: string): Promise<boolean> {
    this.#assertOpen();
    return removeRecurring(this.#pool, this.#s, id);
  }

  async getRecurring(id: string): Promise<RecurringJobRecord | undefined> {
    this.#assertOpen();
    return getRecurring(this.#pool, this.#s, id);
  }

  async listRecurring(): Promise<RecurringJobRecord[]> {
    this.#assertOpen();
    return listRecurring(this.#pool, this.#s);
  }

  async listDueRecurring(now: Date, limit: number): Promise<RecurringJobRecord[]> {
    this.#assertOpen();
    return listDueRecurring(this.#pool, this.#s, now, limit);
  }

  async fireRecurring(fire: FireRecurring): Promise<CreateJobResult[] | undefined> {
    const fired = await this.#transaction((client) => fireRecurring(client, this.#s, this.#channel, fire));
    if (!fired) return undefined;
    this.#announce(fired);
    return fired.created;
  }

  async listQueueSettings(): Promise<QueueSettings[]> {
    this.#assertOpen();
    return listQueueSettings(this.#pool, this.#s);
  }

  async setQueueSettings(queue: string, change: QueueSettingsChange): Promise<QueueSettings> {
    const { after, frees } = await this.#transaction(async (client) => {
      const { before, after } = await writeQueueSettings(client, this.#s, queue, change);
      const frees = freesJobs(before, after);
      // Other processes' workers, as for new jobs: on commit, through LISTEN.
      if (frees) await notifyQueues(client, this.#channel, [queue]);
      return { after, frees };
    });
    if (frees) this.#wakeLocally([queue]);
    return after;
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    return this.#listeners.subscribe(listener);
  }

  /** This process's own writes wake its workers at once, without the round trip through LISTEN. */
  #wakeLocally(queues: readonly string[]): void {
    for (const queue of new Set(queues)) this.#emit({ type: 'wake', queue });
  }

  /** `work` in a transaction, run again if it was a deadlock's victim (see `retryDeadlock()`). */
  #transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return retryDeadlock(() => {
      this.#assertOpen();
      return inTransaction(this.#pool, work);
    });
  }

  #assertOpen(): void {
    if (this.#closing)
      throw new StoreClosedError(
        `The PostgreSQL store (schema ${this.schema}) is closed: create a new store (createPostgresStore()) to use the database again`,
      );
  }

  #emit(event: StoreEvent): void {
    this.#listeners.emit(event);
  }
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
