import type pg from 'pg';
import type { RecurringJobRecord } from 'pilotlight';
import { retryJson, type NewRecurringJob } from 'pilotlight/store-kit';
import { toRecurring, type RecurringRow } from './rows.ts';

/** The recurring jobs' definitions (firing an occurrence inserts jobs: that is the store's `fireRecurring()`). */

export async function upsertRecurring(db: pg.Pool, s: string, job: NewRecurringJob): Promise<void> {
  await db.query(
    `INSERT INTO ${s}.recurring_jobs (id, cron, time_zone, misfire, type, method, args, queue, priority, retry, next_run_at, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
     ON CONFLICT (id) DO UPDATE SET cron = excluded.cron, time_zone = excluded.time_zone, misfire = excluded.misfire,
       type = excluded.type, method = excluded.method, args = excluded.args, queue = excluded.queue,
       priority = excluded.priority, retry = excluded.retry, next_run_at = excluded.next_run_at`,
    [
      job.id,
      job.cron,
      job.timeZone,
      job.misfire,
      job.type,
      job.method,
      job.argsJson,
      job.queue,
      job.priority,
      retryJson(job.retry),
      job.nextRunAt,
      new Date(),
    ],
  );
}

export async function removeRecurring(db: pg.Pool, s: string, id: string): Promise<boolean> {
  return ((await db.query(`DELETE FROM ${s}.recurring_jobs WHERE id = $1`, [id])).rowCount ?? 0) > 0;
}

export async function getRecurring(db: pg.Pool, s: string, id: string): Promise<RecurringJobRecord | undefined> {
  const { rows } = await db.query<RecurringRow>(`SELECT * FROM ${s}.recurring_jobs WHERE id = $1`, [id]);
  return rows[0] && toRecurring(rows[0]);
}

export async function listRecurring(db: pg.Pool, s: string): Promise<RecurringJobRecord[]> {
  return (await db.query<RecurringRow>(`SELECT * FROM ${s}.recurring_jobs ORDER BY id`)).rows.map(toRecurring);
}

export async function listDueRecurring(db: pg.Pool, s: string, now: Date, limit: number): Promise<RecurringJobRecord[]> {
  const { rows } = await db.query<RecurringRow>(
    `SELECT * FROM ${s}.recurring_jobs WHERE next_run_at <= $1 ORDER BY next_run_at, id LIMIT $2`,
    [now, limit],
  );
  return rows.map(toRecurring);
}
