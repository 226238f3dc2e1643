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

/**
 * Records what a transaction changed, inside it: one upsert per (queue, state) and per minute, so a
 * worker's batch of 40 jobs costs two or three small writes, not one per job. SQLite has a single
 * writer: these rows are never contended.
 */
export function writeCountDeltas(connection: SqliteConnection, deltas: JobCountDeltas): void {
  for (const { queue, state, delta } of deltas.counts()) {
    connection
      .statement('INSERT INTO job_counts (queue, state, n) VALUES (?, ?, ?) ON CONFLICT (queue, state) DO UPDATE SET n = n + excluded.n')
      .run(queue, state, delta);
  }
  for (const { minute, succeeded, failed } of deltas.outcomes()) {
    connection
      .statement(
        `INSERT INTO job_outcomes (minute, succeeded, failed) VALUES (?, ?, ?)
         ON CONFLICT (minute) DO UPDATE SET succeeded = succeeded + excluded.succeeded, failed = failed + excluded.failed`,
      )
      .run(minute, succeeded, failed);
  }
}

/** Forgets the outcomes of minutes older than `OUTCOME_RETENTION_MS` before `now`; inside the caller's transaction. */
export function pruneOutcomes(connection: SqliteConnection, now: Date): void {
  connection.statement('DELETE FROM job_outcomes WHERE minute < ?').run(minuteOf(now.getTime() - OUTCOME_RETENTION_MS));
}

/**
 * Jobs per state. Without a type, from the counters (of one queue, or summed over all); with one,
 * from the listing index by type for the states at rest, and from the partial index of Enqueued and
 * of Processing jobs, the only ones of those states.
 */
export function countJobs(connection: SqliteConnection, filter: CountJobsFilter): Record<StateName, number> {
  const rows =
    filter.type === undefined
      ? filter.queue === undefined
        ? connection.statement('SELECT state, sum(n) AS n FROM job_counts GROUP BY state').all()
        : connection.statement('SELECT state, n FROM job_counts WHERE queue = ?').all(filter.queue)
      : countByType(connection, filter.type, filter.queue);
  const counts = emptyCounts();
  // A state this version does not know (a row written around the schema's checks) is no key of its own.
  for (const row of rows as { state: string; n: number }[]) if (isStateName(row.state)) counts[row.state] = row.n;
  return counts;
}

function countByType(connection: SqliteConnection, type: string, queue: string | undefined): unknown[] {
  const inQueue = queue === undefined ? '' : 'AND queue = :queue';
  return connection
    .statement(
      `SELECT state, count(*) AS n FROM jobs
       WHERE type = :type AND state <> 'Enqueued' AND state <> 'Processing' ${inQueue} GROUP BY state
       UNION ALL
       SELECT 'Enqueued', count(*) FROM jobs INDEXED BY jobs_fetch WHERE state = 'Enqueued' AND type = :type ${inQueue}
       UNION ALL
       SELECT 'Processing', count(*) FROM jobs INDEXED BY jobs_leases WHERE state = 'Processing' AND type = :type ${inQueue}`,
    )
    .all(queue === undefined ? { type } : { type, queue });
}

/** Per queue holding jobs, by name: its counts, and when its oldest Enqueued job became due. */
export function queueStats(connection: SqliteConnection): QueueStats[] {
  const byQueue = new Map<string, Record<StateName, number>>();
  for (const row of connection.statement('SELECT queue, state, n FROM job_counts WHERE n <> 0 ORDER BY queue').all() as {
    queue: string;
    state: string;
    n: number;
  }[]) {
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
  const rows = connection
    .statement('SELECT minute, succeeded, failed FROM job_outcomes WHERE minute >= ? AND (succeeded > 0 OR failed > 0) ORDER BY minute')
    .all(minuteOf(since)) as { minute: number; succeeded: number; failed: number }[];
  return rows.map((row) => ({ minute: new Date(row.minute), succeeded: row.succeeded, failed: row.failed }));
}
