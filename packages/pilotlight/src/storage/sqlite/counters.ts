/**
 * The SQLite store's counters (migration 3): jobs per queue and state in `job_counts`, outcomes per
 * minute in `job_outcomes`, written by the transaction that changes the jobs; and the reads of a
 * dashboard built on them.
 */

import type { StateName } from '../../types.ts';
import type { JobCountDeltas } from '../count-deltas.ts';
import { emptyCounts, minuteOf, OUTCOME_RETENTION_MS } from '../job-queries.ts';
import type { CountJobsFilter, MinuteOutcomes, QueueStats } from '../store.ts';
import { isStateName } from '../unreadable-rows.ts';
import type { SqliteConnection } from './connection.ts';

/** job_counts' `minute` of the rows of a state (the others count jobs by the minute they reached Succeeded or Failed). */
const STATE_ROW = -1;

/**
 * Records what a transaction changed, inside it: one upsert per key, so a worker's batch of 40 jobs
 * costs two or three small writes, not one per job, all on job_counts' page. SQLite has a single
 * writer: these rows are never contended.
 */
export function writeCountDeltas(connection: SqliteConnection, deltas: JobCountDeltas): void {
  for (const { queue, type, state, minute, delta } of deltas.rows()) {
    connection
      .statement(
        `INSERT INTO job_counts (queue, type, state, minute, n) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (queue, type, state, minute) DO UPDATE SET n = n + excluded.n`,
      )
      .run(queue, type, state, minute ?? STATE_ROW, delta);
  }
}

/**
 * Maintenance, inside the caller's transaction: moves the jobs counted by the minute they reached
 * Succeeded or Failed into their state's row and into job_outcomes, and forgets the outcomes of
 * minutes older than `OUTCOME_RETENTION_MS` before `now`.
 */
export function foldOutcomes(connection: SqliteConnection, now: Date): void {
  connection
    .statement(
      `INSERT INTO job_outcomes (minute, succeeded, failed)
       SELECT minute, sum(CASE WHEN state = 'Succeeded' THEN n ELSE 0 END), sum(CASE WHEN state = 'Failed' THEN n ELSE 0 END)
       FROM job_counts WHERE minute <> -1 GROUP BY minute
       ON CONFLICT (minute) DO UPDATE SET succeeded = succeeded + excluded.succeeded, failed = failed + excluded.failed`,
    )
    .run();
  connection
    .statement(
      `INSERT INTO job_counts (queue, type, state, minute, n)
       SELECT queue, type, state, -1, sum(n) FROM job_counts WHERE minute <> -1 GROUP BY queue, type, state
       ON CONFLICT (queue, type, state, minute) DO UPDATE SET n = n + excluded.n`,
    )
    .run();
  connection.statement('DELETE FROM job_counts WHERE minute <> -1').run();
  connection.statement('DELETE FROM job_outcomes WHERE minute < ?').run(minuteOf(now.getTime() - OUTCOME_RETENTION_MS));
}

/** Jobs per state, of all queues or one, of all types or one: from the counters. */
export function countJobs(connection: SqliteConnection, filter: CountJobsFilter): Record<StateName, number> {
  const where: string[] = [];
  const params: Record<string, string> = {};
  if (filter.queue !== undefined) {
    where.push('queue = :queue');
    params.queue = filter.queue;
  }
  if (filter.type !== undefined) {
    where.push('type = :type');
    params.type = filter.type;
  }
  const rows = connection
    .statement(`SELECT state, sum(n) AS n FROM job_counts ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`} GROUP BY state`)
    .all(params) as { state: string; n: number }[];
  const counts = emptyCounts();
  // A state this version does not know (a row written around the schema's checks) is no key of its own.
  for (const row of rows) if (isStateName(row.state)) counts[row.state] = row.n;
  return counts;
}

/** Per queue holding jobs, by name: its counts, and when its oldest Enqueued job became due. */
export function queueStats(connection: SqliteConnection): QueueStats[] {
  const byQueue = new Map<string, Record<StateName, number>>();
  const rows = connection
    .statement('SELECT queue, state, sum(n) AS n FROM job_counts GROUP BY queue, state HAVING sum(n) <> 0 ORDER BY queue')
    .all() as { queue: string; state: string; n: number }[];
  for (const row of rows) {
    if (!isStateName(row.state)) continue;
    let counts = byQueue.get(row.queue);
    if (!counts) byQueue.set(row.queue, (counts = emptyCounts()));
    counts[row.state] = row.n;
  }
  return [...byQueue].map(([queue, counts]) => {
    const oldest = counts.Enqueued > 0 ? oldestEnqueued(connection, queue) : null;
    return { queue, counts, oldestEnqueuedAt: oldest === null ? undefined : new Date(oldest) };
  });
}

/**
 * The earliest due time of a queue's Enqueued jobs, from jobs_fetch (queue, priority DESC, run_at,
 * id) without reading all of them: the first entry of each priority holds that priority's earliest
 * due time, and the priorities are found one seek each (a skip scan, through a recursive CTE).
 */
function oldestEnqueued(connection: SqliteConnection, queue: string): number | null {
  const row = connection
    .statement(
      `WITH RECURSIVE priorities (priority) AS (
         SELECT max(priority) FROM jobs WHERE state = 'Enqueued' AND queue = :queue
         UNION ALL
         SELECT (SELECT max(priority) FROM jobs WHERE state = 'Enqueued' AND queue = :queue AND priority < priorities.priority)
         FROM priorities WHERE priority IS NOT NULL
       )
       SELECT min((SELECT run_at FROM jobs WHERE state = 'Enqueued' AND queue = :queue AND priority = priorities.priority ORDER BY run_at LIMIT 1))
         AS oldest
       FROM priorities WHERE priority IS NOT NULL`,
    )
    .get({ queue }) as { oldest: number | null };
  return row.oldest;
}

export function countOutcomesPerMinute(connection: SqliteConnection, since: Date): MinuteOutcomes[] {
  // The folded minutes, and those still counted beside the states (see foldOutcomes()).
  const rows = connection
    .statement(
      `SELECT minute, sum(succeeded) AS succeeded, sum(failed) AS failed FROM (
         SELECT minute, succeeded, failed FROM job_outcomes WHERE minute >= :since
         UNION ALL
         SELECT minute, CASE WHEN state = 'Succeeded' THEN n ELSE 0 END, CASE WHEN state = 'Failed' THEN n ELSE 0 END
         FROM job_counts WHERE minute >= :since AND minute <> -1
       ) GROUP BY minute HAVING sum(succeeded) > 0 OR sum(failed) > 0 ORDER BY minute`,
    )
    .all({ since: minuteOf(since) }) as { minute: number; succeeded: number; failed: number }[];
  return rows.map((row) => ({ minute: new Date(row.minute), succeeded: row.succeeded, failed: row.failed }));
}
