import type { JobRecord, RecurringJobRecord, ServerRecord } from '../../types.ts';
import { jobFromRow, recurringFromRow, type StoredJobRow, type StoredRecurringRow } from '../store-helpers.ts';

/** Every column of `jobs` but the history, which only `getHistory()` reads. */
export const JOB_COLUMNS =
  'id, type, method, args, queue, priority, state, state_reason, run_at, created_at, state_changed_at, attempt, retry_count, ' +
  'retry, parent_id, has_continuations, dedup_key, metadata, server_name, lease_until, progress, recurring_id';

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
