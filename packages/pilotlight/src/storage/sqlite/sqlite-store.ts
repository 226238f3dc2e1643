import type { SQLInputValue, StatementResultingChanges, StatementSync } from 'node:sqlite';
import { DEFAULTS } from '../../config/defaults.ts';
import { ValidationError } from '../../errors.ts';
import {
  JobStates,
  type JobProgress,
  type JobRecord,
  type RecurringJobRecord,
  type ServerRecord,
  type StateName,
  type StateRecord,
} from '../../types.ts';
import { describe } from '../../validation/validate.ts';
import type {
  ClaimRequest,
  CountJobsFilter,
  CreateJobResult,
  FireRecurring,
  JobSearchPage,
  ListJobsQuery,
  MinuteOutcomes,
  NewJob,
  NewRecurringJob,
  QueueSettings,
  QueueSettingsChange,
  QueueStats,
  SearchJobsQuery,
  Store,
  StoreEvent,
  Transition,
  TransitionAndClaimResult,
} from '../store.ts';
import { JobCountDeltas } from '../count-deltas.ts';
import { resolveSearchJobsQuery } from '../job-queries.ts';
import { parseHistory, retryJson, StoreListeners } from '../store-helpers.ts';
import { isStateName } from '../unreadable-rows.ts';
import { startCheckpointer } from './checkpointer.ts';
import { SqliteConnection } from './connection.ts';
import { countJobs, countOutcomesPerMinute, foldOutcomes, queueStats, writeCountDeltas } from './counters.ts';
import { listJobs, searchJobs } from './job-listing.ts';
import { claimJobs } from './claim.ts';
import { addToBatch, countBatch, listBatchContinuations, listReleasableBatchContinuations } from './batches.ts';
import type { DebouncedJob } from './debounce.ts';
import { listQueueSettings, setQueueSettings } from './queue-settings.ts';
import { deleteClosedRateWindows } from './rate-windows.ts';
import { RateLimitWakeTimer } from './rate-limit-wake-timer.ts';
import { applyTransition, insertJobs } from './job-writes.ts';
import { migrate } from './migrations.ts';
import { loadNodeSqlite } from './node-sqlite.ts';
import { JOB_COLUMNS, toJob, toRecurring, toRowId, toServer, type JobRow, type RecurringRow, type ServerRow } from './rows.ts';
import { watchForeignWrites } from './wake-watcher.ts';

export interface SqliteStoreOptions {
  /**
   * The database file. Several processes may open the same file (an API that enqueues, workers
   * that execute). `':memory:'` keeps everything in this process, for tests.
   * @default 'pilotlight.db'
   */
  readonly path?: string;
  /**
   * SQLite's `synchronous` setting. With `'NORMAL'` (WAL mode), a crashed *process* loses nothing
   * committed; a power loss or OS crash may lose the last transactions committed before it (the
   * database stays consistent). `'FULL'` makes every commit durable against power loss too, at
   * the cost of an fsync per commit.
   * @default 'NORMAL'
   */
  readonly synchronous?: 'NORMAL' | 'FULL';
  /**
   * How long a write waits for another process's write to finish before failing, in ms.
   * @default 5000
   */
  readonly busyTimeout?: number;
}

/** Auto-checkpoint threshold (pages): a safety net behind the checkpoint thread. */
const AUTOCHECKPOINT_PAGES = 20_000;

/** The embedded store: one SQLite file through Node's built-in `node:sqlite`, no native dependency. */
export class SqliteStore implements Store {
  readonly path: string;
  readonly #connection: SqliteConnection;
  readonly #listeners = new StoreListeners();
  readonly #rateLimitWakes = new RateLimitWakeTimer((queue) => this.#emit({ type: 'wake', queue }));
  #stopWatching: (() => void) | undefined;
  #checkpointer: { stop(): Promise<void> } | undefined;
  #dataVersion = 0;

  constructor(options: SqliteStoreOptions = {}) {
    this.path = options.path ?? 'pilotlight.db';
    const synchronous = options.synchronous ?? DEFAULTS.sqlite.synchronous;
    if (synchronous !== 'NORMAL' && synchronous !== 'FULL') {
      throw new ValidationError(`synchronous must be 'NORMAL' or 'FULL'; received ${describe(synchronous)}`);
    }
    const busyTimeout = options.busyTimeout ?? DEFAULTS.sqlite.busyTimeout;
    if (!Number.isInteger(busyTimeout) || busyTimeout < 0) {
      throw new ValidationError(`busyTimeout must be an integer >= 0 (ms); received ${describe(busyTimeout)}`);
    }
    const { DatabaseSync } = loadNodeSqlite();
    this.#connection = new SqliteConnection(new DatabaseSync(this.path), this.path);
    try {
      this.#connection.exec(`PRAGMA busy_timeout = ${busyTimeout}`);
      this.#connection.exec('PRAGMA journal_mode = WAL');
      this.#connection.exec(`PRAGMA synchronous = ${synchronous}`);
      migrate(this.#connection, this.path);
    } catch (error) {
      // No store is returned, so nobody could close the connection: do not leak it.
      void this.#connection.close();
      throw error;
    }
    if (this.path !== ':memory:') {
      this.#connection.exec(`PRAGMA wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
      this.#checkpointer = startCheckpointer(this.path);
      this.#dataVersion = this.#dataVersionNow();
      this.#stopWatching = watchForeignWrites(
        this.path,
        () => this.#hasForeignWrites(),
        () => this.#emit({ type: 'wake' }),
      );
    }
  }

  async migrate(): Promise<void> {
    migrate(this.#connection, this.path);
  }

  async close(): Promise<void> {
    if (this.#connection.closed) return;
    this.#stopWatching?.();
    this.#rateLimitWakes.clear();
    this.#listeners.clear();
    // The checkpoint thread's connection ends first, so that this one, closing last, removes the WAL file.
    await this.#connection.close(this.#checkpointer?.stop());
  }

  async createJobs(jobs: readonly NewJob[], transaction?: never): Promise<CreateJobResult[]> {
    if (transaction !== undefined) {
      throw new ValidationError(
        'options.transaction is not supported by the SQLite store: it writes to its own database file, outside any transaction of yours. Leave it out, or use @pilotlight/postgres',
      );
    }
    const debounced: DebouncedJob[] = [];
    const results = this.#write((deltas) => insertJobs(this.#connection, jobs, deltas, debounced));
    this.#emitDebounced(debounced);
    if (results.some((result, i) => result.created && jobs[i]!.state.name === JobStates.Enqueued)) this.#emit({ type: 'wake' });
    return results;
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    const row = this.#stmt(`SELECT ${JOB_COLUMNS} FROM jobs WHERE id = ?`).get(toRowId(id) ?? null) as JobRow | undefined;
    return row && toJob(row);
  }

  async getHistory(id: string): Promise<StateRecord[]> {
    const row = this.#stmt('SELECT history, state, state_changed_at FROM jobs WHERE id = ?').get(toRowId(id) ?? null) as
      { history: string; state: string; state_changed_at: number } | undefined;
    return row ? parseHistory(row.history, currentState(row)) : [];
  }

  async listJobs(query: ListJobsQuery): Promise<JobRecord[]> {
    return listJobs(this.#connection, query);
  }

  async searchJobs(query: SearchJobsQuery): Promise<JobSearchPage> {
    return searchJobs(this.#connection, resolveSearchJobsQuery(query));
  }

  async countJobs(filter: CountJobsFilter = {}): Promise<Record<StateName, number>> {
    return countJobs(this.#connection, filter);
  }

  async queueStats(): Promise<QueueStats[]> {
    return queueStats(this.#connection);
  }

  async countOutcomesPerMinute(since: Date): Promise<MinuteOutcomes[]> {
    return countOutcomesPerMinute(this.#connection, since);
  }

  async claimJobs(request: ClaimRequest): Promise<JobRecord[]> {
    const wakes = new Map<string, number>();
    const claimed = this.#write((deltas) => claimJobs(this.#connection, request, deltas, wakes));
    this.#armRateLimitWakes(request, wakes);
    return claimed;
  }

  async transition(changes: readonly Transition[]): Promise<(JobRecord | undefined)[]> {
    return (await this.transitionAndClaim(changes, undefined)).transitioned;
  }

  async transitionAndClaim(changes: readonly Transition[], claim: ClaimRequest | undefined): Promise<TransitionAndClaimResult> {
    const wakes = new Map<string, number>();
    const [transitioned, claimed] = this.#write(
      (deltas) =>
        [
          changes.map((change) => applyTransition(this.#connection, change, deltas)),
          claim ? claimJobs(this.#connection, claim, deltas, wakes) : [],
        ] as const,
    );
    if (claim) this.#armRateLimitWakes(claim, wakes);
    let wake = false;
    transitioned.forEach((job, i) => {
      if (!job) return;
      const change = changes[i]!;
      if (change.to.name === JobStates.Enqueued) wake = true;
      this.#emit({ type: 'state', jobId: change.id, from: change.expect.state, to: change.to.name });
    });
    if (wake) this.#emit({ type: 'wake' });
    return { transitioned, claimed };
  }

  async setProgress(id: string, attempt: number, progress: JobProgress): Promise<void> {
    this.#run(
      `UPDATE jobs SET progress = ? WHERE id = ? AND attempt = ? AND state = 'Processing'`,
      JSON.stringify(progress),
      toRowId(id) ?? null,
      attempt,
    );
  }

  async listDueJobs(now: Date, limit: number): Promise<JobRecord[]> {
    // A due time that is not an integer (text compares above every number) would never come: it is
    // due now, first, and the job read says why (see readJobRow()).
    const rows = this.#stmt(
      `SELECT ${JOB_COLUMNS} FROM jobs WHERE state = 'Scheduled' AND (run_at <= ? OR typeof(run_at) <> 'integer')
       ORDER BY typeof(run_at) = 'integer', run_at LIMIT ?`,
    ).all(now.getTime(), limit);
    return (rows as unknown as JobRow[]).map(toJob);
  }

  async listExpiredLeases(now: Date, limit: number): Promise<JobRecord[]> {
    const rows = this.#stmt(
      // A Processing job without a lease (written around the schema's checks) has no worker renewing it either.
      `SELECT ${JOB_COLUMNS} FROM jobs WHERE state = 'Processing' AND (lease_until < ? OR lease_until IS NULL) ORDER BY lease_until LIMIT ?`,
    ).all(now.getTime(), limit);
    return (rows as unknown as JobRow[]).map(toJob);
  }

  async listContinuations(parentId: string): Promise<JobRecord[]> {
    const rows = this.#stmt(`SELECT ${JOB_COLUMNS} FROM jobs WHERE state = 'Awaiting' AND parent_id = ? ORDER BY id`).all(
      toRowId(parentId) ?? null,
    );
    return (rows as unknown as JobRow[]).map(toJob);
  }

  async listReleasableContinuations(limit: number): Promise<JobRecord[]> {
    const rows = this.#stmt(
      `SELECT ${JOB_COLUMNS.split(', ')
        .map((column) => `child.${column}`)
        .join(', ')} FROM jobs AS child LEFT JOIN jobs AS parent ON parent.id = child.parent_id
       WHERE child.state = 'Awaiting' AND child.awaits_batch IS NULL AND (parent.id IS NULL OR parent.state IN ('Succeeded', 'Deleted'))
       ORDER BY child.id LIMIT ?`,
    ).all(limit);
    return (rows as unknown as JobRow[]).map(toJob);
  }

  async listBatchContinuations(batchId: string): Promise<JobRecord[]> {
    return listBatchContinuations(this.#connection, batchId);
  }

  async countBatch(batchId: string): Promise<Record<StateName, number>> {
    return countBatch(this.#connection, batchId);
  }

  async addToBatch(batchId: string, jobIds: readonly string[]): Promise<void> {
    this.#connection.transaction(() => addToBatch(this.#connection, batchId, jobIds));
  }

  async listReleasableBatchContinuations(limit: number): Promise<JobRecord[]> {
    return listReleasableBatchContinuations(this.#connection, limit);
  }

  async deleteExpiredJobs(now: Date, limit: number): Promise<number> {
    return this.#write((deltas) => {
      const deleted = this.#stmt(
        'DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE expires_at <= ? ORDER BY expires_at LIMIT ?) RETURNING queue, type, state',
      ).all(now.getTime(), limit) as { queue: string; type: string; state: string }[];
      for (const { queue, type, state } of deleted) if (isStateName(state)) deltas.add(queue, type, state, -1);
      // Maintenance calls this on every pass: where the outcomes are folded in, and kept as long as the dashboard shows them.
      foldOutcomes(this.#connection, now);
      deleteClosedRateWindows(this.#connection, now);
      return deleted.length;
    });
  }

  async heartbeat(server: ServerRecord, leaseUntil: Date): Promise<string[]> {
    const rows = this.#connection.transaction(() => {
      this.#stmt(
        `INSERT INTO servers (name, queues, concurrency, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET queues = excluded.queues, concurrency = excluded.concurrency, heartbeat_at = excluded.heartbeat_at`,
      ).run(server.name, JSON.stringify(server.queues), server.concurrency, server.startedAt.getTime(), server.heartbeatAt.getTime());
      return this.#stmt(`UPDATE jobs SET lease_until = ? WHERE state = 'Processing' AND server_name = ? RETURNING id`).all(
        leaseUntil.getTime(),
        server.name,
      ) as { id: number }[];
    });
    return rows.map((row) => String(row.id));
  }

  async removeServer(name: string): Promise<void> {
    this.#run('DELETE FROM servers WHERE name = ?', name);
  }

  async listServers(): Promise<ServerRecord[]> {
    return (this.#stmt('SELECT * FROM servers ORDER BY started_at').all() as unknown as ServerRow[]).map(toServer);
  }

  async removeStaleServers(before: Date): Promise<number> {
    return Number(this.#run('DELETE FROM servers WHERE heartbeat_at < ?', before.getTime()).changes);
  }

  async upsertRecurring(job: NewRecurringJob): Promise<void> {
    this.#run(
      `INSERT INTO recurring_jobs (id, cron, time_zone, misfire, type, method, args, queue, priority, retry, next_run_at, created_at)
       VALUES (:id, :cron, :timeZone, :misfire, :type, :method, :args, :queue, :priority, :retry, :nextRunAt, :now)
       ON CONFLICT (id) DO UPDATE SET cron = excluded.cron, time_zone = excluded.time_zone, misfire = excluded.misfire,
         type = excluded.type, method = excluded.method, args = excluded.args, queue = excluded.queue,
         priority = excluded.priority, retry = excluded.retry, next_run_at = excluded.next_run_at`,
      {
        id: job.id,
        cron: job.cron,
        timeZone: job.timeZone,
        misfire: job.misfire,
        type: job.type,
        method: job.method,
        args: job.argsJson,
        queue: job.queue,
        priority: job.priority,
        retry: retryJson(job.retry),
        nextRunAt: job.nextRunAt.getTime(),
        now: Date.now(),
      },
    );
  }

  async removeRecurring(id: string): Promise<boolean> {
    return Number(this.#run('DELETE FROM recurring_jobs WHERE id = ?', id).changes) > 0;
  }

  async getRecurring(id: string): Promise<RecurringJobRecord | undefined> {
    const row = this.#stmt('SELECT * FROM recurring_jobs WHERE id = ?').get(id) as RecurringRow | undefined;
    return row && toRecurring(row);
  }

  async listRecurring(): Promise<RecurringJobRecord[]> {
    return (this.#stmt('SELECT * FROM recurring_jobs ORDER BY id').all() as unknown as RecurringRow[]).map(toRecurring);
  }

  async listDueRecurring(now: Date, limit: number): Promise<RecurringJobRecord[]> {
    const rows = this.#stmt('SELECT * FROM recurring_jobs WHERE next_run_at <= ? ORDER BY next_run_at LIMIT ?').all(now.getTime(), limit);
    return (rows as unknown as RecurringRow[]).map(toRecurring);
  }

  async fireRecurring(fire: FireRecurring): Promise<CreateJobResult[] | undefined> {
    const debounced: DebouncedJob[] = [];
    const results = this.#write((deltas) => {
      // Compare-and-set on next_run_at: of all processes that saw this occurrence due, one wins.
      const won = this.#stmt('UPDATE recurring_jobs SET next_run_at = ?, last_run_at = ? WHERE id = ? AND next_run_at = ?').run(
        fire.nextRunAt.getTime(),
        fire.firedAt.getTime(),
        fire.id,
        fire.expectNextRunAt.getTime(),
      );
      if (Number(won.changes) === 0) return undefined;
      const created = insertJobs(this.#connection, fire.jobs, deltas, debounced);
      const last = created.at(-1);
      if (last) this.#stmt('UPDATE recurring_jobs SET last_job_id = ? WHERE id = ?').run(Number(last.id), fire.id);
      return created;
    });
    this.#emitDebounced(debounced);
    if (results?.some((result) => result.created)) this.#emit({ type: 'wake' });
    return results;
  }

  async listQueueSettings(): Promise<QueueSettings[]> {
    return listQueueSettings(this.#connection);
  }

  async setQueueSettings(queue: string, change: QueueSettingsChange): Promise<QueueSettings> {
    const { settings, freed } = this.#connection.transaction(() => setQueueSettings(this.#connection, queue, change, new Date()));
    // Other processes see the change at their next claim, woken by their file watcher.
    if (freed) this.#emit({ type: 'wake', queue });
    return settings;
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    return this.#listeners.subscribe(listener);
  }

  #stmt(sql: string): StatementSync {
    return this.#connection.statement(sql);
  }

  /** `work` in a write transaction, which records the changes of the job counters `work` adds to `deltas` before it commits. */
  #write<T>(work: (deltas: JobCountDeltas) => T): T {
    return this.#connection.transaction(() => {
      const deltas = new JobCountDeltas();
      const result = work(deltas);
      writeCountDeltas(this.#connection, deltas);
      return result;
    });
  }

  /** Runs a write outside any transaction; a full disk fails it with a `StoreFullError`, as in a transaction. */
  #run(sql: string, ...params: (SQLInputValue | Record<string, SQLInputValue>)[]): StatementResultingChanges {
    return this.#connection.write(() => this.#stmt(sql).run(...(params as SQLInputValue[])));
  }

  /** Arms the wakes a claim owes the queues whose jobs a rate limit passed over: at each window's end (`request.now`'s clock). */
  #armRateLimitWakes(request: ClaimRequest, wakes: Map<string, number>): void {
    for (const [queue, at] of wakes) this.#rateLimitWakes.arm(queue, at - request.now.getTime());
  }

  #emitDebounced(debounced: readonly DebouncedJob[]): void {
    for (const job of debounced) this.#emit({ type: 'state', jobId: job.id, from: job.from, to: JobStates.Deleted });
  }

  #dataVersionNow(): number {
    return (this.#stmt('PRAGMA data_version').get() as { data_version: number }).data_version;
  }

  #hasForeignWrites(): boolean {
    if (this.#connection.closed) return false;
    const version = this.#dataVersionNow();
    const changed = version !== this.#dataVersion;
    this.#dataVersion = version;
    return changed;
  }

  #emit(event: StoreEvent): void {
    this.#listeners.emit(event);
  }
}

/** The job's state as `parseHistory()` dates an unreadable stretch of its history with. */
function currentState(row: { state: string; state_changed_at: number }): { name: StateName; at: Date } | undefined {
  return isStateName(row.state) && Number.isFinite(row.state_changed_at)
    ? { name: row.state, at: new Date(row.state_changed_at) }
    : undefined;
}

/** Open (and create or upgrade) an embedded SQLite store. */
export function createSqliteStore(options: SqliteStoreOptions = {}): SqliteStore {
  return new SqliteStore(options);
}
