import type { JobProgress, JobRecord, RecurringJobRecord, RetryOptions, ServerRecord } from 'pilotlight';
import {
  jobFromRow,
  readJobRow,
  recurringFromRow,
  STORED_FLOW_COLUMNS,
  STORED_JOB_COLUMNS,
  type ReadJobRow,
  type StoredJobRow,
  type StoredRecurringRow,
} from 'pilotlight/store-kit';

/**
 * Row shapes as `pg` returns them (BIGINT as string, JSONB parsed; job times selected as epoch
 * milliseconds by `jobColumns()`, other TIMESTAMPTZ as Date), and their mapping.
 */
export interface JobRow extends StoredJobRow {
  id: string;
  retry: RetryOptions | null;
  parent_id: string | null;
  has_continuations: boolean;
  metadata: Record<string, string> | null;
  progress: JobProgress | null;
}

/** Every column of `jobs` but the history, which only `getHistory()` reads. */
export const JOB_COLUMNS = [...STORED_JOB_COLUMNS, ...STORED_FLOW_COLUMNS] as const;

/** The job columns that are times, selected as epoch milliseconds (see `jobColumns()`). */
const TIME_COLUMNS: ReadonlySet<string> = new Set(['run_at', 'created_at', 'state_changed_at', 'lease_until']);

/** BIGINT columns that hold numbers of ms, selected as `float8`: pg returns a BIGINT as a string. */
const BIGINT_COLUMNS: ReadonlySet<string> = new Set(['rate_limit_per']);

/**
 * The select list of a job row (`alias` qualifies the columns, e.g. `'j.'`), each output named as
 * its column. Times come as epoch milliseconds (`float8`): pg reads those with `parseFloat`, while a
 * `timestamptz` goes through a date-parsing regex, the largest cost of reading claimed jobs.
 */
export function jobColumns(alias = ''): string {
  return JOB_COLUMNS.map((column) => {
    if (TIME_COLUMNS.has(column)) return `(extract(epoch FROM ${alias}${column}) * 1000)::float8 AS ${column}`;
    if (BIGINT_COLUMNS.has(column)) return `${alias}${column}::float8 AS ${column}`;
    return `${alias}${column}`;
  }).join(', ');
}

/**
 * A job row read with `rowMode: 'array'` (the hot statements: pg then skips building an object per
 * row through a dictionary), from `offset` on, in `jobColumns()` order.
 */
export function jobRowFromValues(values: readonly unknown[], offset: number): JobRow {
  const row: Record<string, unknown> = {};
  for (let i = 0; i < JOB_COLUMNS.length; i++) row[JOB_COLUMNS[i]!] = values[offset + i];
  return row as unknown as JobRow;
}

/** JSONB columns come parsed: nothing to decode. */
const parsed = <T>(value: T): T => value;

export function toJob(row: JobRow): JobRecord {
  return jobFromRow(row, parsed);
}

/**
 * The job and what of it could not be read: JSONB always holds valid JSON, but of any shape (metadata
 * an array, retry options a string), and `state` any text, when something wrote around the schema's checks.
 */
export function readJob(row: JobRow): ReadJobRow {
  return readJobRow(row, parsed);
}

export interface RecurringRow extends StoredRecurringRow {
  retry: RetryOptions | null;
  next_run_at: Date;
  last_run_at: Date | null;
  last_job_id: string | null;
  created_at: Date;
}

export function toRecurring(row: RecurringRow): RecurringJobRecord {
  return recurringFromRow(row, parsed);
}

export interface ServerRow {
  name: string;
  queues: string[];
  concurrency: number;
  started_at: Date;
  heartbeat_at: Date;
}

export function toServer(row: ServerRow): ServerRecord {
  return { name: row.name, queues: row.queues, concurrency: row.concurrency, startedAt: row.started_at, heartbeatAt: row.heartbeat_at };
}

const MAX_BIGINT = 9223372036854775807n;

/** Store ids are decimal strings of positive BIGINTs; anything else names no job (and never reaches SQL). */
export function toRowId(id: string): string | undefined {
  if (typeof id !== 'string' || !/^[1-9]\d{0,18}$/.test(id)) return undefined;
  return BigInt(id) <= MAX_BIGINT ? id : undefined;
}

/** Claim order: priority desc, run_at, id (BIGINT strings compared as numbers). */
export function claimOrder(a: JobRecord, b: JobRecord): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  const byRunAt = a.runAt.getTime() - b.runAt.getTime();
  if (byRunAt !== 0) return byRunAt;
  const x = BigInt(a.id);
  const y = BigInt(b.id);
  return x < y ? -1 : x > y ? 1 : 0;
}
