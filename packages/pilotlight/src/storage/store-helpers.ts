import { DEFAULTS } from '../config/defaults.ts';
import {
  JobStates,
  type JobProgress,
  type JobRecord,
  type RecurringJobRecord,
  type RetryOptions,
  type StateName,
  type StateRecord,
} from '../types.ts';
import type { StoreEvent, Transition } from './store.ts';
import { metadataShape, progressShape, readHistory, retryShape, RowProblems } from './unreadable-rows.ts';

/**
 * Helpers every store implementation shares (published in `pilotlight/store-kit`), so that stores
 * agree on formats and behaviour without copying each other.
 */

/**
 * When a job that a debounced job replaced (moved to `Deleted` by the store in `createJobs()`) may
 * be deleted: `at` plus the default deleted retention, since the store does not know the
 * `retention.deleted` the application gives its workers.
 */
export function debouncedJobExpiry(at: Date): Date {
  return new Date(at.getTime() + DEFAULTS.retention.deleted);
}

/**
 * A job's history, stored in its own row as comma-separated JSON entries (`{…},{…}`): appending a
 * state is a string concatenation in the UPDATE that changes the state, so a transition writes one
 * row and no second table or index. Times are epoch milliseconds.
 */
export function historyEntry(state: StateRecord): string {
  const entry: Record<string, unknown> = { name: state.name, at: state.at.getTime() };
  if (state.reason !== undefined) entry.reason = state.reason;
  if (state.runAt) entry.runAt = state.runAt.getTime();
  if (state.error) entry.error = state.error;
  if (state.serverName) entry.serverName = state.serverName;
  if (state.attempt !== undefined) entry.attempt = state.attempt;
  if (state.retry) entry.retry = true;
  return JSON.stringify(entry);
}

/**
 * The history written by `historyEntry()`, oldest first. Never throws: garbage in it (a corrupted or
 * hand-edited row) is reported by one entry, in the job's `current` state when given, saying what
 * could not be read; the entries around it are kept.
 */
export function parseHistory(history: string, current?: { name: StateName; at: Date }): StateRecord[] {
  return readHistory(history, current);
}

/**
 * Whether a transition's guard pins one attempt (`expect.attempt` and `expect.serverName`) and it
 * carries the job as read: then `pinnedResult()` can build the result without reading the row back.
 */
export function isPinned(change: Transition): change is Transition & { readonly job: JobRecord } {
  return change.job !== undefined && change.expect.attempt !== undefined && change.expect.serverName !== undefined;
}

/** The job after a pinned transition: the job as read, the change, and the two fields others may have written. */
export function pinnedResult(
  change: Transition & { readonly job: JobRecord },
  hasContinuations: boolean,
  progress: JobProgress | undefined,
): JobRecord {
  const { job, to } = change;
  return {
    ...job,
    state: to.name,
    stateReason: to.reason,
    stateChangedAt: to.at,
    runAt: change.runAt ?? job.runAt,
    retryCount: change.retryCount ?? job.retryCount,
    attempt: change.attempt ?? job.attempt,
    serverName: undefined,
    leaseUntil: undefined,
    hasContinuations,
    progress,
  };
}

/**
 * A job row as both stores keep it (the same column names), in the types their drivers hand back:
 * ids as numbers or strings, booleans as 0/1 or booleans, times as epoch milliseconds, JSON columns
 * as text or already parsed (`jobFromRow()` takes the decoder).
 */
export interface StoredJobRow {
  id: string | number;
  type: string;
  method: string;
  args: string;
  queue: string;
  priority: number;
  state: string;
  state_reason: string | null;
  run_at: number;
  created_at: number;
  state_changed_at: number;
  attempt: number;
  retry_count: number;
  retry: unknown;
  parent_id: string | number | null;
  has_continuations: boolean | number;
  dedup_key: string | null;
  metadata: unknown;
  server_name: string | null;
  lease_until: number | null;
  progress: unknown;
  recurring_id: string | null;
  // Flow control and results (schema version with them); NULL or absent: none.
  concurrency_key?: string | null;
  concurrency_limit?: number | null;
  rate_limit_key?: string | null;
  rate_limit_max?: number | null;
  rate_limit_per?: number | null;
  debounce_key?: string | null;
  batch_id?: string | null;
  awaits_batch?: string | null;
  /** `'succeeded'` or `'finished'`, with `awaits_batch`. */
  awaits_batch_when?: string | null;
  /** The handler's return value as JSON text (never a parsed JSON column: `resultJson` is the text). */
  result?: string | null;
}

/** The columns of `StoredJobRow` every store's job table has had, in the order both stores select them (the history aside). */
export const STORED_JOB_COLUMNS = [
  'id',
  'type',
  'method',
  'args',
  'queue',
  'priority',
  'state',
  'state_reason',
  'run_at',
  'created_at',
  'state_changed_at',
  'attempt',
  'retry_count',
  'retry',
  'parent_id',
  'has_continuations',
  'dedup_key',
  'metadata',
  'server_name',
  'lease_until',
  'progress',
  'recurring_id',
] as const satisfies readonly (keyof StoredJobRow)[];

/** The flow-control, batch and result columns of `StoredJobRow` (NULL, all of them, for most jobs). */
export const STORED_FLOW_COLUMNS = [
  'concurrency_key',
  'concurrency_limit',
  'rate_limit_key',
  'rate_limit_max',
  'rate_limit_per',
  'debounce_key',
  'batch_id',
  'awaits_batch',
  'awaits_batch_when',
  'result',
] as const satisfies readonly (keyof StoredJobRow)[];

/** A recurring job row as both stores keep it; times as the driver gives them (see `toDate`). */
export interface StoredRecurringRow {
  id: string;
  cron: string;
  time_zone: string;
  misfire: string;
  type: string;
  method: string;
  args: string;
  queue: string;
  priority: number;
  retry: unknown;
  next_run_at: number | Date;
  last_run_at: number | Date | null;
  last_job_id: string | number | null;
  created_at: number | Date;
}

/** How a driver returns a JSON column: text to parse (`JSON.parse`), or a value already parsed. */
export type JsonColumn = (value: any) => any;

const EMPTY_METADATA: Readonly<Record<string, string>> = Object.freeze({});
const NO_RETRY_OPTIONS: RetryOptions = Object.freeze({});

/** A job row read: the job, with safe values in its unreadable columns, and what was unreadable. */
export interface ReadJobRow {
  readonly job: JobRecord;
  /**
   * `Unreadable row: column metadata is not valid JSON (…); …` when some column could not be read
   * (the job's `stateReason` says the same): the store must not hand such a job to a worker.
   */
  readonly unreadable?: string;
}

/**
 * Maps a job row, never throwing: a column that cannot be read (invalid JSON, a JSON value of the
 * wrong shape, a state this version does not know, a time that is not a number) gets a safe value
 * (no metadata, default retry options, state `Failed`…) and is named in `unreadable`.
 */
export function readJobRow(row: StoredJobRow, json: JsonColumn): ReadJobRow {
  const problems = new RowProblems();
  const state = problems.state(row.state);
  const createdAt = problems.time('created_at', row.created_at, new Date(0));
  const stateChangedAt = problems.time('state_changed_at', row.state_changed_at, createdAt);
  const job: JobRecord = {
    id: String(row.id),
    type: row.type,
    method: row.method,
    argsJson: row.args,
    queue: row.queue,
    priority: problems.integer('priority', row.priority),
    state: state ?? JobStates.Failed,
    stateReason: row.state_reason ?? undefined,
    runAt: problems.time('run_at', row.run_at, stateChangedAt),
    createdAt,
    stateChangedAt,
    attempt: problems.integer('attempt', row.attempt),
    retryCount: problems.integer('retry_count', row.retry_count),
    retry: row.retry === null ? NO_RETRY_OPTIONS : (problems.json<RetryOptions>('retry', row.retry, json, retryShape) ?? NO_RETRY_OPTIONS),
    parentId: row.parent_id === null ? undefined : String(row.parent_id),
    hasContinuations: row.has_continuations === true || row.has_continuations === 1,
    dedupKey: row.dedup_key ?? undefined,
    metadata:
      row.metadata === null
        ? EMPTY_METADATA
        : (problems.json<Record<string, string>>('metadata', row.metadata, json, metadataShape) ?? EMPTY_METADATA),
    serverName: row.server_name ?? undefined,
    leaseUntil: row.lease_until === null ? undefined : problems.time('lease_until', row.lease_until, new Date(0)),
    progress: row.progress === null ? undefined : problems.json<JobProgress>('progress', row.progress, json, progressShape),
    recurringId: row.recurring_id ?? undefined,
    concurrency:
      row.concurrency_key == null
        ? undefined
        : { key: row.concurrency_key, limit: problems.integer('concurrency_limit', row.concurrency_limit) },
    rateLimit:
      row.rate_limit_key == null
        ? undefined
        : {
            key: row.rate_limit_key,
            max: problems.integer('rate_limit_max', row.rate_limit_max),
            per: problems.integer('rate_limit_per', row.rate_limit_per),
          },
    debounceKey: row.debounce_key ?? undefined,
    batchId: row.batch_id ?? undefined,
    awaitsBatch:
      row.awaits_batch == null
        ? undefined
        : { batchId: row.awaits_batch, when: row.awaits_batch_when === 'succeeded' ? 'succeeded' : 'finished' },
    resultJson: row.result ?? undefined,
  };
  const unreadable = problems.reason();
  return unreadable === undefined ? { job } : { job: { ...job, stateReason: unreadable }, unreadable };
}

/** `readJobRow()`'s job: a row that cannot be fully read comes with safe values and `stateReason` saying why. */
export function jobFromRow(row: StoredJobRow, json: JsonColumn): JobRecord {
  return readJobRow(row, json).job;
}

/**
 * The change a store makes, in the claim, to a job it cannot hand to a worker (`readJobRow()` found
 * it unreadable): `Failed`, with the reason naming the column, instead of `Processing`. Done in the
 * claim's own transaction (or right after it), so one bad row never fails the claim of the others.
 */
export function unreadableFailure(reason: string, at: Date): StateRecord {
  return { name: JobStates.Failed, reason, at, error: { type: 'UnreadableRow', message: reason } };
}

export function recurringFromRow(row: StoredRecurringRow, json: JsonColumn): RecurringJobRecord {
  return {
    id: row.id,
    cron: row.cron,
    timeZone: row.time_zone,
    misfire: row.misfire as RecurringJobRecord['misfire'],
    type: row.type,
    method: row.method,
    argsJson: row.args,
    queue: row.queue,
    priority: row.priority,
    retry: row.retry === null ? NO_RETRY_OPTIONS : json(row.retry),
    nextRunAt: new Date(row.next_run_at),
    lastRunAt: row.last_run_at === null ? undefined : new Date(row.last_run_at),
    lastJobId: row.last_job_id === null ? undefined : String(row.last_job_id),
    createdAt: new Date(row.created_at),
  };
}

/** JSON of retry options, or NULL when there is nothing to store. */
export function retryJson(retry: RetryOptions): string | null {
  return Object.keys(retry).length === 0 ? null : JSON.stringify(retry);
}

/** A store's subscribers; one that throws neither stops the others nor fails the write already committed. */
export class StoreListeners {
  readonly #listeners = new Set<(event: StoreEvent) => void>();

  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(event: StoreEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        process.emitWarning(`A Pilotlight store listener threw: ${String(error)}`, 'PilotlightWarning');
      }
    }
  }

  clear(): void {
    this.#listeners.clear();
  }
}
