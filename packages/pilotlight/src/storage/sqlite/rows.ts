import type { JobRecord, RecurringJobRecord, RetryOptions, ServerRecord, StateName } from '../../types.ts';

/** Row shapes as `node:sqlite` returns them, and their mapping to the store's records. */
export interface JobRow {
  id: number;
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
  retry: string | null;
  parent_id: number | null;
  has_continuations: number;
  dedup_key: string | null;
  metadata: string | null;
  server_name: string | null;
  lease_until: number | null;
  progress: string | null;
  recurring_id: string | null;
}

const EMPTY: Readonly<Record<string, string>> = Object.freeze({});
const NO_RETRY_OPTIONS: RetryOptions = Object.freeze({});

export function toJob(row: JobRow): JobRecord {
  return {
    id: String(row.id),
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
    retry: row.retry === null ? NO_RETRY_OPTIONS : JSON.parse(row.retry),
    parentId: row.parent_id === null ? undefined : String(row.parent_id),
    hasContinuations: row.has_continuations === 1,
    dedupKey: row.dedup_key ?? undefined,
    metadata: row.metadata === null ? EMPTY : JSON.parse(row.metadata),
    serverName: row.server_name ?? undefined,
    leaseUntil: row.lease_until === null ? undefined : new Date(row.lease_until),
    progress: row.progress === null ? undefined : JSON.parse(row.progress),
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
  retry: string | null;
  next_run_at: number;
  last_run_at: number | null;
  last_job_id: number | null;
  created_at: number;
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
    retry: row.retry === null ? NO_RETRY_OPTIONS : JSON.parse(row.retry),
    nextRunAt: new Date(row.next_run_at),
    lastRunAt: row.last_run_at === null ? undefined : new Date(row.last_run_at),
    lastJobId: row.last_job_id === null ? undefined : String(row.last_job_id),
    createdAt: new Date(row.created_at),
  };
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

/** JSON of retry options, or NULL when there is nothing to store. */
export function retryJson(retry: RetryOptions): string | null {
  return Object.keys(retry).length === 0 ? null : JSON.stringify(retry);
}
