import type { JobProgress, JobRecord, RecurringJobRecord, ServerRecord } from '../../types.ts';
import { progressShape, RowProblems } from '../unreadable-rows.ts';
import {
  jobFromRow,
  readJobRow,
  recurringFromRow,
  STORED_FLOW_COLUMNS,
  STORED_JOB_COLUMNS,
  type ReadJobRow,
  type StoredJobRow,
  type StoredRecurringRow,
} from '../store-helpers.ts';

const PLAIN_COLUMNS = STORED_JOB_COLUMNS.join(', ');

/** Every column of `jobs` but the history, which only `getHistory()` reads. */
export const JOB_COLUMNS = `${PLAIN_COLUMNS}, ${STORED_FLOW_COLUMNS.join(', ')}`;

/**
 * The columns as the claim reads them: the flow-control ones as one JSON array, `flow`, NULL for a
 * job with none of them (read one by one, ten more columns cost the claim about 2 µs a job). See
 * `unpackFlow()`.
 */
export const CLAIM_COLUMNS =
  `${PLAIN_COLUMNS}, CASE WHEN coalesce(concurrency_key, rate_limit_key, debounce_key, batch_id, awaits_batch, result) IS NULL ` +
  `THEN NULL ELSE json_array(${STORED_FLOW_COLUMNS.join(', ')}) END AS flow`;

export interface ClaimRow extends JobRow {
  flow: string | null;
}

/** A row read with `CLAIM_COLUMNS` as one read with `JOB_COLUMNS` (absent flow columns read as NULL). */
export function unpackFlow(row: ClaimRow): JobRow {
  if (row.flow === null) return row;
  const values = JSON.parse(row.flow) as unknown[];
  const unpacked: Record<string, unknown> = { ...row };
  STORED_FLOW_COLUMNS.forEach((column, i) => (unpacked[column] = values[i]));
  return unpacked as unknown as JobRow;
}

/** Row shapes as `node:sqlite` returns them, and their mapping to the store's records. */
export interface JobRow extends StoredJobRow {
  id: number;
  retry: string | null;
  parent_id: number | null;
  has_continuations: number;
  metadata: string | null;
  progress: string | null;
}

export function toJob(row: JobRow): JobRecord {
  return jobFromRow(row, JSON.parse);
}

/** A running job's progress, as a pinned transition reads it back; undefined when unreadable (see `readJobRow()`). */
export function progressOf(row: Pick<JobRow, 'progress'>): JobProgress | undefined {
  return row.progress === null ? undefined : readJobRowProgress(row.progress);
}

function readJobRowProgress(text: string): JobProgress | undefined {
  const problems = new RowProblems();
  return problems.json<JobProgress>('progress', text, JSON.parse, progressShape);
}

/** The job and what of it could not be read (SQLite keeps any value in any column: text that is not JSON, a time that is text). */
export function readJob(row: JobRow): ReadJobRow {
  return readJobRow(row, JSON.parse);
}

export interface RecurringRow extends StoredRecurringRow {
  retry: string | null;
  next_run_at: number;
  last_run_at: number | null;
  last_job_id: number | null;
  created_at: number;
}

export function toRecurring(row: RecurringRow): RecurringJobRecord {
  return recurringFromRow(row, JSON.parse);
}

export interface ServerRow {
  name: string;
  queues: string;
  concurrency: number;
  started_at: number;
  heartbeat_at: number;
}

export function toServer(row: ServerRow): ServerRecord {
  return {
    name: row.name,
    queues: JSON.parse(row.queues),
    concurrency: row.concurrency,
    startedAt: new Date(row.started_at),
    heartbeatAt: new Date(row.heartbeat_at),
  };
}

/** Store ids are decimal strings of SQLite rowids; anything else names no job. */
export function toRowId(id: string): number | undefined {
  if (!/^[1-9]\d{0,15}$/.test(id)) return undefined;
  const rowId = Number(id);
  return Number.isSafeInteger(rowId) ? rowId : undefined;
}
