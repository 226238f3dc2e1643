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
import { jobColumns, toJob, toRowId, toServer, type JobRow, type ServerRow } from './rows.ts';
import { WakeListener } from './wake-listener.ts';
import { isStateName, JobCountDeltas, parseHistory, resolveSearchJobsQuery, StoreClosedError, StoreListeners } from 'pilotlight/store-kit';
import { applyTransition, insertJob, insertPlainJobs, isPlainJob, lockOrder, type InsertEffects } from './job-writes.ts';
import { claimJobs, type InTransaction } from './claim-sql.ts';
import type { FlowControl } from './flow-claim.ts';
import { WindowWakes } from './rate-limit-wakes.ts';
import { deleteClosedRateWindows } from './rate-limit-sql.ts';
import { freesJobs, listQueueSettings, writeQueueSettings } from './queue-settings-sql.ts';
import { addToBatch, countBatch, listBatchContinuations, listReleasableBatchContinuations } from './batch-sql.ts';
import { finishAndClaim, isWorkerBatch } from './finish-and-claim.ts';
import { CounterReads, foldCounters, writeDeltas } from './counters.ts';
import { deleteExpiredJobs } from './expiry-sql.ts';
import { listJobs, searchJobs } from './job-listing.ts';
import { getRecurring, listDueRecurring, listRecurring, removeRecurring, upsertRecurring } from './recurring-sql.ts';
import { recordHeartbeat } from './servers-sql.ts';

/** The PostgreSQL store: any number of processes on any number of machines share one database. */
export class PostgresStore implements Store<pg.ClientBase> {
  readonly schema: string;
  readonly #pool: pg.Pool;
  readonly #ownsPool: boolean;
  readonly #s: string; // the quoted schema, for SQL text
  readonly #channel: string;
  readonly #columns: string;
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
    this.#columns = jobColumns();
    this.#counters = new CounterReads(options.pool, this.#s, options.schema);
    this.#windowWakes = new WindowWakes((queue) => this.#emit({ type: 'wake', queue }));
    this.#flow = {
      schema: options.schema,
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
    // Queues to NOTIFY: of the Enqueued jobs created, and of Enqueued parents a continuation locked.
    let effects: InsertEffects = { wakeQueues: [], replaced: [] };
    const insertEach = async (client: pg.ClientBase) => {
      effects = { wakeQueues: [], replaced: [] }; // (a retried transaction starts over)
      const created: CreateJobResult[] = [];
      const deltas = new JobCountDeltas();
      for (const job of jobs) created.push(await insertJob(client, this.#s, job, deltas, effects));
      await writeDeltas(client, this.#s, deltas);
      await this.#notify(client, [...enqueuedQueues(jobs, created), ...effects.wakeQueues]);
      return created;
    };
    const plain = jobs.every(isPlainJob);
    let results: CreateJobResult[];
    if (transaction) {
      results = plain ? await insertPlainJobs(transaction, this.#s, this.#channel, jobs) : await insertEach(transaction);
      // Nothing to wake here: the caller's commit is what makes the jobs visible, and the NOTIFY
      // sent with it reaches this process's workers through LISTEN like any other.
      return results;
    }
    results = plain
      ? await retryDeadlock(() => insertPlainJobs(this.#pool, this.#s, this.#channel, jobs))
      : await this.#transaction(insertEach);
    this.#wakeLocally([...enqueuedQueues(jobs, results), ...effects.wakeQueues]);
    this.#emitReplaced(effects);
    return results;
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    const rowId = toRowId(id);
    if (rowId === undefined) return undefined;
    const { rows } = await this.#query<JobRow>(`SELECT ${this.#columns} FROM ${this.#s}.jobs WHERE id = $1`, [rowId]);
    return rows[0] && toJob(rows[0]);
  }

  async getHistory(id: string): Promise<StateRecord[]> {
    const rowId = toRowId(id);
    if (rowId === undefined) return [];
    const { rows } = await this.#query<{ history: string; state: string; state_changed_at: Date }>(
      `SELECT history, state, state_changed_at FROM ${this.#s}.jobs WHERE id = $1`,
      [rowId],
    );
    const row = rows[0];
    if (!row) return [];
    // The current state dates an unreadable stretch of the history, if there is one.
    const current =
      isStateName(row.state) && Number.isFinite(row.state_changed_at.getTime()) ? { name: row.state, at: row.state_changed_at } : undefined;
    return parseHistory(row.history, current);
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
    const enqueuedQueues = (transitioned: (JobRecord | undefined)[]) =>
      transitioned.flatMap((job, i) => (job && changes[i]!.to.name === JobStates.Enqueued ? [job.queue] : []));
    const result = await this.#transaction(async (client) => {
      // Rows are locked in ascending id order, whatever the order of the batch: two batches touching
      // the same jobs (a worker finishing them, maintenance requeueing them) then cannot deadlock.
      const transitioned: (JobRecord | undefined)[] = new Array(changes.length).fill(undefined);
      const deltas = new JobCountDeltas();
      for (const i of lockOrder(changes)) transitioned[i] = await applyTransition(client, this.#s, changes[i]!, deltas);
      await writeDeltas(client, this.#s, deltas);
      await this.#notify(client, enqueuedQueues(transitioned));
      // Under flow control, the claim's locks are this transaction's.
      const inThis: InTransaction = (work) => work(client);
      const claimed = claim ? await claimJobs(client, this.#s, claim, this.#flow, inThis) : [];
      return { transitioned, claimed };
    });
    this.#emitStates(changes, result.transitioned);
    this.#wakeLocally(enqueuedQueues(result.transitioned));
    return result;
  }

  /** The waiting jobs debounced jobs replaced moved to Deleted. */
  #emitReplaced(effects: InsertEffects): void {
    for (const { id, from } of effects.replaced) this.#emit({ type: 'state', jobId: id, from, to: JobStates.Deleted });
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
    await this.#query(`UPDATE ${this.#s}.jobs SET progress = $1 WHERE id = $2 AND attempt = $3 AND state = 'Processing'`, [
      JSON.stringify(progress),
      rowId,
      attempt,
    ]);
  }

  async listDueJobs(now: Date, limit: number): Promise<JobRecord[]> {
    const { rows } = await this.#query<JobRow>(
      `SELECT ${this.#columns} FROM ${this.#s}.jobs WHERE state = 'Scheduled' AND run_at <= $1 ORDER BY run_at, id LIMIT $2`,
      [now, limit],
    );
    return rows.map(toJob);
  }

  async listExpiredLeases(now: Date, limit: number): Promise<JobRecord[]> {
    const { rows } = await this.#query<JobRow>(
      // A Processing job without a lease (written around the schema's checks) has no worker renewing it either.
      `SELECT ${this.#columns} FROM ${this.#s}.jobs WHERE state = 'Processing' AND (lease_until < $1 OR lease_until IS NULL)
       ORDER BY lease_until NULLS FIRST, id LIMIT $2`,
      [now, limit],
    );
    return rows.map(toJob);
  }

  async listContinuations(parentId: string): Promise<JobRecord[]> {
    const rowId = toRowId(parentId);
    if (rowId === undefined) return [];
    const { rows } = await this.#query<JobRow>(
      `SELECT ${this.#columns} FROM ${this.#s}.jobs WHERE state = 'Awaiting' AND parent_id = $1 ORDER BY id`,
      [rowId],
    );
    return rows.map(toJob);
  }

  async listReleasableContinuations(limit: number): Promise<JobRecord[]> {
    const { rows } = await this.#query<JobRow>(
      `SELECT ${jobColumns('child.')}
       FROM ${this.#s}.jobs AS child LEFT JOIN ${this.#s}.jobs AS parent ON parent.id = child.parent_id
       WHERE child.state = 'Awaiting' AND child.awaits_batch IS NULL AND (parent.id IS NULL OR parent.state IN ('Succeeded', 'Deleted'))
       ORDER BY child.id LIMIT $1`,
      [limit],
    );
    return rows.map(toJob);
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
    await this.#query(`DELETE FROM ${this.#s}.servers WHERE name = $1`, [name]);
  }

  async listServers(): Promise<ServerRecord[]> {
    const { rows } = await this.#query<ServerRow>(`SELECT * FROM ${this.#s}.servers ORDER BY started_at, name`);
    return rows.map(toServer);
  }

  async removeStaleServers(before: Date): Promise<number> {
    return (await this.#query(`DELETE FROM ${this.#s}.servers WHERE heartbeat_at < $1`, [before])).rowCount ?? 0;
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
    const enqueued = (results: CreateJobResult[]) =>
      fire.jobs.filter((job, i) => results[i]!.created && job.state.name === JobStates.Enqueued).map((job) => job.queue);
    let effects: InsertEffects = { wakeQueues: [], replaced: [] };
    const results = await this.#transaction(async (client) => {
      // Compare-and-set on next_run_at: of all processes that saw this occurrence due, one wins.
      // A second firer blocks on the row lock, then re-checks next_run_at and updates nothing.
      const won = await client.query(
        `UPDATE ${this.#s}.recurring_jobs SET next_run_at = $1, last_run_at = $2 WHERE id = $3 AND next_run_at = $4`,
        [fire.nextRunAt, fire.firedAt, fire.id, fire.expectNextRunAt],
      );
      if (won.rowCount === 0) return undefined;
      const created: CreateJobResult[] = [];
      const deltas = new JobCountDeltas();
      effects = { wakeQueues: [], replaced: [] };
      for (const job of fire.jobs) created.push(await insertJob(client, this.#s, job, deltas, effects));
      await writeDeltas(client, this.#s, deltas);
      const last = created.at(-1);
      if (last) await client.query(`UPDATE ${this.#s}.recurring_jobs SET last_job_id = $1 WHERE id = $2`, [last.id, fire.id]);
      await this.#notify(client, enqueued(created));
      return created;
    });
    if (results) {
      this.#wakeLocally(enqueued(results));
      this.#emitReplaced(effects);
    }
    return results;
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
      if (frees) await this.#notify(client, [queue]);
      return { after, frees };
    });
    if (frees) this.#wakeLocally([queue]);
    return after;
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    return this.#listeners.subscribe(listener);
  }

  /**
   * NOTIFY in the writing transaction: PostgreSQL delivers it on commit only (never for a rolled
   * back write), to every listening process, this one included. One per distinct queue; the payload
   * is the queue name.
   */
  async #notify(client: pg.ClientBase, queues: readonly string[]): Promise<void> {
    const distinct = [...new Set(queues)];
    if (distinct.length === 0) return;
    await client.query('SELECT pg_notify($1, queue) FROM unnest($2::text[]) AS queue', [this.#channel, distinct]);
  }

  /** This process's own writes wake its workers at once, without the round trip through LISTEN. */
  #wakeLocally(queues: readonly string[]): void {
    for (const queue of new Set(queues)) this.#emit({ type: 'wake', queue });
  }

  async #query<R extends pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>> {
    this.#assertOpen();
    return this.#pool.query<R>(sql, params);
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

function enqueuedQueues(jobs: readonly NewJob[], results: readonly CreateJobResult[]): string[] {
  return jobs.filter((job, i) => results[i]!.created && job.state.name === JobStates.Enqueued).map((job) => job.queue);
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
