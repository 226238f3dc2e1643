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
import { StoreListeners } from '../store-helpers.ts';
import { startCheckpointer } from './checkpointer.ts';
import type { SqliteConnection } from './connection.ts';
import { countJobs, countOutcomesPerMinute, queueStats, writeCountDeltas } from './counters.ts';
import { deleteExpiredJobs } from './expiry.ts';
import { getHistory, getJob, listContinuations, listDueJobs, listExpiredLeases, listReleasableContinuations } from './job-reads.ts';
import { listJobs, searchJobs } from './job-listing.ts';
import { claimJobs } from './claim.ts';
import { addToBatch, countBatch, listBatchContinuations, listReleasableBatchContinuations } from './batches.ts';
import type { DebouncedJob } from './debounce.ts';
import { listQueueSettings, setQueueSettings } from './queue-settings.ts';
import { RateLimitWakeTimer } from './rate-limit-wake-timer.ts';
import { applyTransition, insertJobs, setProgress } from './job-writes.ts';
import { migrate } from './migrations.ts';
import { openDatabase, type SqliteStoreOptions } from './open-database.ts';
import { fireRecurring, getRecurring, listDueRecurring, listRecurring, removeRecurring, upsertRecurring } from './recurring.ts';
import { heartbeat, listServers, removeServer, removeStaleServers } from './servers.ts';
import { watchForeignWrites } from './wake-watcher.ts';

export type { SqliteStoreOptions } from './open-database.ts';

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
    const opened = openDatabase(options);
    this.path = opened.path;
    this.#connection = opened.connection;
    if (this.path !== ':memory:') {
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
    return getJob(this.#connection, id);
  }

  async getHistory(id: string): Promise<StateRecord[]> {
    return getHistory(this.#connection, id);
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
    setProgress(this.#connection, id, attempt, progress);
  }

  async listDueJobs(now: Date, limit: number): Promise<JobRecord[]> {
    return listDueJobs(this.#connection, now, limit);
  }

  async listExpiredLeases(now: Date, limit: number): Promise<JobRecord[]> {
    return listExpiredLeases(this.#connection, now, limit);
  }

  async listContinuations(parentId: string): Promise<JobRecord[]> {
    return listContinuations(this.#connection, parentId);
  }

  async listReleasableContinuations(limit: number): Promise<JobRecord[]> {
    return listReleasableContinuations(this.#connection, limit);
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
    return this.#write((deltas) => deleteExpiredJobs(this.#connection, now, limit, deltas));
  }

  async heartbeat(server: ServerRecord, leaseUntil: Date): Promise<string[]> {
    return heartbeat(this.#connection, server, leaseUntil);
  }

  async removeServer(name: string): Promise<void> {
    removeServer(this.#connection, name);
  }

  async listServers(): Promise<ServerRecord[]> {
    return listServers(this.#connection);
  }

  async removeStaleServers(before: Date): Promise<number> {
    return removeStaleServers(this.#connection, before);
  }

  async upsertRecurring(job: NewRecurringJob): Promise<void> {
    upsertRecurring(this.#connection, job);
  }

  async removeRecurring(id: string): Promise<boolean> {
    return removeRecurring(this.#connection, id);
  }

  async getRecurring(id: string): Promise<RecurringJobRecord | undefined> {
    return getRecurring(this.#connection, id);
  }

  async listRecurring(): Promise<RecurringJobRecord[]> {
    return listRecurring(this.#connection);
  }

  async listDueRecurring(now: Date, limit: number): Promise<RecurringJobRecord[]> {
    return listDueRecurring(this.#connection, now, limit);
  }

  async fireRecurring(fire: FireRecurring): Promise<CreateJobResult[] | undefined> {
    const debounced: DebouncedJob[] = [];
    const results = this.#write((deltas) => fireRecurring(this.#connection, fire, deltas, debounced));
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

  /** `work` in a write transaction, which records the changes of the job counters `work` adds to `deltas` before it commits. */
  #write<T>(work: (deltas: JobCountDeltas) => T): T {
    return this.#connection.transaction(() => {
      const deltas = new JobCountDeltas();
      const result = work(deltas);
      writeCountDeltas(this.#connection, deltas);
      return result;
    });
  }

  /** Arms the wakes a claim owes the queues whose jobs a rate limit passed over: at each window's end (`request.now`'s clock). */
  #armRateLimitWakes(request: ClaimRequest, wakes: Map<string, number>): void {
    for (const [queue, at] of wakes) this.#rateLimitWakes.arm(queue, at - request.now.getTime());
  }

  #emitDebounced(debounced: readonly DebouncedJob[]): void {
    for (const job of debounced) this.#emit({ type: 'state', jobId: job.id, from: job.from, to: JobStates.Deleted });
  }

  #dataVersionNow(): number {
    return (this.#connection.statement('PRAGMA data_version').get() as { data_version: number }).data_version;
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

/** Open (and create or upgrade) an embedded SQLite store. */
export function createSqliteStore(options: SqliteStoreOptions = {}): SqliteStore {
  return new SqliteStore(options);
}
