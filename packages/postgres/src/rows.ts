import type { JobProgress, JobRecord, RecurringJobRecord, RetryOptions, ServerRecord, StateName } from 'pilotlight';

/** Row shapes as `pg` returns them (BIGINT as string, TIMESTAMPTZ as Date, JSONB parsed), and their mapping. */
export interface JobRow {
  id: string;
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
  retry: RetryOptions | null;
  parent_id: string | null;
  has_continuations: boolean;
  dedup_key: string | null;
  metadata: Record<string, string> | null;
  server_name: string | null;
  lease_until: number | null;
  progress: JobProgress | null;
  recurring_id: string | null;
}

/** Every column of `jobs` but the history, which only `getHistory()` reads. */
export const JOB_COLUMNS = [
  'id', 'type', 'method', 'args', 'queue', 'priority', 'state', 'state_reason', 'run_at', 'created_at', 'state_changed_at',
  'attempt', 'retry_count', 'retry', 'parent_id', 'has_continuations', 'dedup_key', 'metadata', 'server_name', 'lease_until',
  'progress', 'recurring_id',
] as const;

/** The job columns that are times, selected as epoch milliseconds (see `jobColumns()`). */
const TIME_COLUMNS: ReadonlySet<string> = new Set(['run_at', 'created_at', 'state_changed_at', 'lease_until']);

/**
 * The select list of a job row (`alias` qualifies the columns, e.g. `'j.'`), each output named as
 * its column. Times come as epoch milliseconds (`float8`): pg reads those with `parseFloat`, while a
 * `timestamptz` goes through a date-parsing regex, the largest cost of reading claimed jobs.
 */
export function jobColumns(alias = ''): string {
  return JOB_COLUMNS.map((column) =>
    TIME_COLUMNS.has(column) ? `(extract(epoch FROM ${alias}${column}) * 1000)::float8 AS ${column}` : `${alias}${column}`,
  ).join(', ');
}

const EMPTY: Readonly<Record<string, string>> = Object.freeze({});
const NO_RETRY_OPTIONS: RetryOptions = Object.freeze({});

/**
 * A job row read with `rowMode: 'array'` (the hot statements: pg then skips building an object per
 * row through a dictionary), from `offset` on, in `jobColumns()` order.
 */
export function jobRowFromValues(values: readonly unknown[], offset: number): JobRow {
  const row: Record<string, unknown> = {};
  for (let i = 0; i < JOB_COLUMNS.length; i++) row[JOB_COLUMNS[i]!] = values[offset + i];
  return row as unknown as JobRow;
}

export function toJob(row: JobRow): JobRecord {
  return {
    id: row.id,
    type: row.type,
    method: row.method,
    argsJson: row.args,
    queue: row.queue,
    priority: row.priority,
    state: row.state as StateName,
    stateReason: row.state_reason ?? undefined,
    runAt: new Date(row.run_at),
    createdAt: new Date(row.created_at),
    stateChangedAt: new Date(row.state_changed_at),
    attempt: row.attempt,
    retryCount: row.retry_count,
    retry: row.retry ?? NO_RETRY_OPTIONS,
    parentId: row.parent_id ?? undefined,
    hasContinuations: row.has_continuations,
    dedupKey: row.dedup_key ?? undefined,
    metadata: row.metadata ?? EMPTY,
    serverName: row.server_name ?? undefined,
    leaseUntil: row.lease_until === null ? undefined : new Date(row.lease_until),
    progress: row.progress ?? undefined,
    recurringId: row.recurring_id ?? undefined,
  };
}

export interface RecurringRow {
  id: string;
  cron: string;
  time_zone: string;
  misfire: string;
  type: string;
  method: string;
  args: string;
  queue: string;
  priority: number;
  retry: RetryOptions | null;
  next_run_at: Date;
  last_run_at: Date | null;
  last_job_id: string | null;
  created_at: Date;
}

export function toRecurring(row: RecurringRow): RecurringJobRecord {
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
    retry: row.retry ?? NO_RETRY_OPTIONS,
    nextRunAt: row.next_run_at,
    lastRunAt: row.last_run_at ?? undefined,
    lastJobId: row.last_job_id ?? undefined,
    createdAt: row.created_at,
  };
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

/** JSON of retry options, or NULL when there is nothing to store. */
export function retryJson(retry: RetryOptions): string | null {
  return Object.keys(retry).length === 0 ? null : JSON.stringify(retry);
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
