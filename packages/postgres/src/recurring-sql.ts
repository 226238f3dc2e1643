import type pg from 'pg';
import type { RecurringJobRecord } from 'pilotlight';
import { retryJson, type FireRecurring, type NewRecurringJob } from 'pilotlight/store-kit';
import { insertJobs, type InsertedJobs } from './insert-jobs.ts';
import { toRecurring, type RecurringRow } from './rows.ts';

/** The recurring jobs' definitions, and the firing of an occurrence. */

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

/**
 * In the caller's transaction: moves the definition to its next occurrence and inserts the
 * occurrence's jobs (NOTIFYing their queues), or does nothing (`undefined`) if another process
 * fired it first.
 */
export async function fireRecurring(
  client: pg.ClientBase,
  s: string,
  channel: string,
  fire: FireRecurring,
): Promise<InsertedJobs | undefined> {
  // Compare-and-set on next_run_at: of all processes that saw this occurrence due, one wins.
  // A second firer blocks on the row lock, then re-checks next_run_at and updates nothing.
  const won = await client.query(`UPDATE ${s}.recurring_jobs SET next_run_at = $1, last_run_at = $2 WHERE id = $3 AND next_run_at = $4`, [
    fire.nextRunAt,
    fire.firedAt,
    fire.id,
    fire.expectNextRunAt,
  ]);
  if (won.rowCount === 0) return undefined;
  const inserted = await insertJobs(client, s, channel, fire.jobs);
  const last = inserted.created.at(-1);
  if (last) await client.query(`UPDATE ${s}.recurring_jobs SET last_job_id = $1 WHERE id = $2`, [last.id, fire.id]);
  return inserted;
}
