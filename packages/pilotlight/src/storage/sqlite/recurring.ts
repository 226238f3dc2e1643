/** Recurring jobs' definitions (`recurring_jobs`), and the firing of an occurrence. */

import type { RecurringJobRecord } from '../../types.ts';
import type { JobCountDeltas } from '../count-deltas.ts';
import type { CreateJobResult, FireRecurring, NewRecurringJob } from '../store.ts';
import { retryJson } from '../store-helpers.ts';
import type { SqliteConnection } from './connection.ts';
import type { DebouncedJob } from './debounce.ts';
import { insertJobs } from './job-writes.ts';
import { toRecurring, type RecurringRow } from './rows.ts';

export function upsertRecurring(connection: SqliteConnection, job: NewRecurringJob): void {
  connection.write(() =>
    connection
      .statement(
        `INSERT INTO recurring_jobs (id, cron, time_zone, misfire, type, method, args, queue, priority, retry, next_run_at, created_at)
         VALUES (:id, :cron, :timeZone, :misfire, :type, :method, :args, :queue, :priority, :retry, :nextRunAt, :now)
         ON CONFLICT (id) DO UPDATE SET cron = excluded.cron, time_zone = excluded.time_zone, misfire = excluded.misfire,
           type = excluded.type, method = excluded.method, args = excluded.args, queue = excluded.queue,
           priority = excluded.priority, retry = excluded.retry, next_run_at = excluded.next_run_at`,
      )
      .run({
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
      }),
  );
}

export function removeRecurring(connection: SqliteConnection, id: string): boolean {
  return Number(connection.write(() => connection.statement('DELETE FROM recurring_jobs WHERE id = ?').run(id)).changes) > 0;
}

export function getRecurring(connection: SqliteConnection, id: string): RecurringJobRecord | undefined {
  const row = connection.statement('SELECT * FROM recurring_jobs WHERE id = ?').get(id) as RecurringRow | undefined;
  return row && toRecurring(row);
}

export function listRecurring(connection: SqliteConnection): RecurringJobRecord[] {
  return (connection.statement('SELECT * FROM recurring_jobs ORDER BY id').all() as unknown as RecurringRow[]).map(toRecurring);
}

export function listDueRecurring(connection: SqliteConnection, now: Date, limit: number): RecurringJobRecord[] {
  const rows = connection
    .statement('SELECT * FROM recurring_jobs WHERE next_run_at <= ? ORDER BY next_run_at LIMIT ?')
    .all(now.getTime(), limit);
  return (rows as unknown as RecurringRow[]).map(toRecurring);
}

/**
 * Inside the caller's write transaction: moves the definition to its next occurrence and inserts
 * the occurrence's jobs, or does nothing (`undefined`) if another process fired it first.
 */
export function fireRecurring(
  connection: SqliteConnection,
  fire: FireRecurring,
  deltas: JobCountDeltas,
  debounced: DebouncedJob[],
): CreateJobResult[] | undefined {
  // Compare-and-set on next_run_at: of all processes that saw this occurrence due, one wins.
  const won = connection
    .statement('UPDATE recurring_jobs SET next_run_at = ?, last_run_at = ? WHERE id = ? AND next_run_at = ?')
    .run(fire.nextRunAt.getTime(), fire.firedAt.getTime(), fire.id, fire.expectNextRunAt.getTime());
  if (Number(won.changes) === 0) return undefined;
  const created = insertJobs(connection, fire.jobs, deltas, debounced);
  const last = created.at(-1);
  if (last) connection.statement('UPDATE recurring_jobs SET last_job_id = ? WHERE id = ?').run(Number(last.id), fire.id);
  return created;
}
