import type pg from 'pg';
import type { StateName } from 'pilotlight';
import type { CountJobsFilter, JobCountDeltas, MinuteOutcomes, QueueStats } from 'pilotlight/store-kit';
import { emptyCounts, isStateName, minuteOf, OUTCOME_RETENTION_MS } from 'pilotlight/store-kit';
import { prepared } from './sql-params.ts';

/**
 * The PostgreSQL store's counters (migration 3): jobs per queue, type and state; outcomes per minute.
 *
 * Why deltas and not counter rows updated in place: every worker's batch changes the counts of its
 * queue, so an `UPDATE job_counts SET n = n + …` in each of them would make all the workers' commits
 * wait in line for the same few rows (and two batches touching two queues in opposite orders could
 * deadlock). Hangfire's SQL Server storage meets the same problem for its statistics with two tables,
 * `Counter` (rows appended by writers) and `AggregatedCounter` (CountersAggregator folds them in
 * periodically: `DELETE … OUTPUT … MERGE`); this does the same. A write appends one row per key it
 * changed, in the statement that changes the jobs where it can (a CTE), else once at the end of its
 * transaction: appends never wait for each other. A read adds the pending deltas to the folded
 * counts, in one snapshot, so it is exact at once. Maintenance folds the deltas in (every worker's
 * `deleteExpiredJobs()`), as does a read that found many of them. The outcomes per minute ride on
 * the same rows: a delta of jobs that reached Succeeded or Failed carries the minute they did.
 */

type Queryable = pg.Pool | pg.ClientBase;

/**
 * A CTE (to follow others in a WITH) appending count changes: `changes` selects `(queue, type,
 * state, minute, delta)` rows (`minute`, a timestamptz, for jobs that reached Succeeded or Failed,
 * else NULL), summed here per key. A data-modifying CTE runs whether or not the statement reads it.
 */
export function deltaCte(s: string, changes: string): string {
  return `counted AS (
       INSERT INTO ${s}.job_count_deltas (queue, type, state, minute, delta)
       SELECT queue, type, state, minute, sum(delta) FROM (${changes}) AS change
       GROUP BY queue, type, state, minute HAVING sum(delta) <> 0
     )`;
}

/** Appends what a transaction summed in `deltas` (its inserts and transitions): one statement, or none. */
export async function writeDeltas(client: pg.ClientBase, s: string, deltas: JobCountDeltas): Promise<void> {
  const rows = deltas.rows();
  if (rows.length === 0) return;
  await client.query(
    `INSERT INTO ${s}.job_count_deltas (queue, type, state, minute, delta)
     SELECT queue, type, state, to_timestamp(minute / 1000), delta
     FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::bigint[]) AS d(queue, type, state, minute, delta)`,
    [
      rows.map((r) => r.queue),
      rows.map((r) => r.type),
      rows.map((r) => r.state),
      rows.map((r) => r.minute ?? null),
      rows.map((r) => r.delta),
    ],
  );
}

/** First half of the fold's advisory lock ('plct' in ASCII); the second is `hashtext(schema)`, as for migrations. */
const FOLD_LOCK_CLASS = 0x706c6374;

/**
 * Moves the pending deltas into the counts and the outcomes, and forgets outcomes older than
 * `OUTCOME_RETENTION_MS`, in one statement (one transaction: a reader sees the deltas either pending
 * or folded, never both). One fold at a time per schema: a fold that finds another running (the
 * advisory lock taken) does nothing, instead of waiting for rows the other one holds. Rows are
 * folded in key order.
 */
export async function foldCounters(db: Queryable, s: string, schema: string, now: Date): Promise<void> {
  await db.query(
    `WITH lock AS MATERIALIZED (SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS held),
     moved AS (DELETE FROM ${s}.job_count_deltas WHERE (SELECT held FROM lock) RETURNING queue, type, state, minute, delta),
     folded AS (
       INSERT INTO ${s}.job_counts AS c (queue, type, state, n)
       SELECT queue, type, state, sum(delta) FROM moved GROUP BY queue, type, state ORDER BY queue, type, state
       ON CONFLICT (queue, type, state) DO UPDATE SET n = c.n + excluded.n
     ),
     -- Outcomes of minutes past retention are not folded: the prune below would take them.
     folded_outcomes AS (
       INSERT INTO ${s}.job_outcomes AS o (minute, succeeded, failed)
       SELECT minute, coalesce(sum(delta) FILTER (WHERE state = 'Succeeded'), 0), coalesce(sum(delta) FILTER (WHERE state = 'Failed'), 0)
       FROM moved WHERE minute >= $3 GROUP BY minute ORDER BY minute
       ON CONFLICT (minute) DO UPDATE SET succeeded = o.succeeded + excluded.succeeded, failed = o.failed + excluded.failed
     ),
     pruned AS (DELETE FROM ${s}.job_outcomes WHERE minute < $3 AND (SELECT held FROM lock))
     SELECT held FROM lock`,
    [FOLD_LOCK_CLASS, schema, new Date(minuteOf(now.getTime() - OUTCOME_RETENTION_MS))],
  );
}

/** A read that summed more pending deltas than this folds them, so that reads stay fast if no worker runs maintenance. */
const FOLD_ON_READ = 10_000;

/** The reads of a dashboard on the counters. */
export class CounterReads {
  readonly #pool: pg.Pool;
  readonly #s: string;
  readonly #schema: string;
  readonly #queueStatsSql: string;

  constructor(pool: pg.Pool, s: string, schema: string) {
    this.#pool = pool;
    this.#s = s;
    this.#schema = schema;
    this.#queueStatsSql = queueStatsSql(s, countsSql(s, ''));
  }

  /** Jobs per state, of all queues or one, of all types or one. */
  async countJobs(filter: CountJobsFilter): Promise<Record<StateName, number>> {
    const params: string[] = [];
    const where: string[] = [];
    if (filter.queue !== undefined) where.push(`queue = $${params.push(filter.queue)}`);
    if (filter.type !== undefined) where.push(`type = $${params.push(filter.type)}`);
    const { rows } = await this.#pool.query<CountRow>(countsSql(this.#s, where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`), params);
    const counts = emptyCounts();
    // A state this version does not know (a row written around the schema's checks) is no key of its own.
    for (const row of rows) if (isStateName(row.state)) counts[row.state] += Number(row.n);
    await this.#foldIfMany(rows);
    return counts;
  }

  /**
   * Per queue holding jobs, by name: its counts, and when its oldest Enqueued job became due. One
   * prepared statement, so one round trip and no planning: the metrics gauges read it every
   * collection.
   */
  async queueStats(): Promise<QueueStats[]> {
    const { rows } = await this.#pool.query<CountRow & { oldest: Date | null }>(prepared(this.#queueStatsSql, []));
    const byQueue = new Map<string, { counts: Record<StateName, number>; oldest: Date | undefined }>();
    for (const row of rows) {
      const n = Number(row.n);
      if (n === 0 || !isStateName(row.state)) continue;
      let queue = byQueue.get(row.queue);
      if (!queue) byQueue.set(row.queue, (queue = { counts: emptyCounts(), oldest: undefined }));
      queue.counts[row.state] = n;
      if (row.oldest !== null) queue.oldest = row.oldest;
    }
    await this.#foldIfMany(rows);
    return [...byQueue].map(([queue, { counts, oldest }]) => ({ queue, counts, oldestEnqueuedAt: oldest }));
  }

  async countOutcomesPerMinute(since: Date): Promise<MinuteOutcomes[]> {
    const { rows } = await this.#pool.query<{ minute: number; succeeded: string; failed: string }>(
      `SELECT (extract(epoch FROM minute) * 1000)::float8 AS minute, sum(succeeded) AS succeeded, sum(failed) AS failed FROM (
         SELECT minute, succeeded, failed FROM ${this.#s}.job_outcomes WHERE minute >= $1
         UNION ALL
         SELECT minute, CASE WHEN state = 'Succeeded' THEN delta ELSE 0 END, CASE WHEN state = 'Failed' THEN delta ELSE 0 END
         FROM ${this.#s}.job_count_deltas WHERE minute >= $1
       ) AS o GROUP BY minute HAVING sum(succeeded) > 0 OR sum(failed) > 0 ORDER BY minute`,
      [new Date(minuteOf(since))],
    );
    return rows.map((row) => ({ minute: new Date(row.minute), succeeded: Number(row.succeeded), failed: Number(row.failed) }));
  }

  /** A read that summed many pending deltas folds them. */
  async #foldIfMany(rows: readonly CountRow[]): Promise<void> {
    let pending = 0;
    for (const row of rows) pending += Number(row.pending);
    if (pending > FOLD_ON_READ) await foldCounters(this.#pool, this.#s, this.#schema, new Date());
  }
}

/** A row of `countsSql()`: bigint sums, which pg returns as strings. */
interface CountRow {
  readonly queue: string;
  readonly state: string;
  readonly n: string;
  readonly pending: string;
}

/**
 * Jobs per queue and state (`matching`: a WHERE on queue and type, or nothing): the folded counts
 * plus the pending deltas, in one snapshot, with how many pending deltas were summed.
 */
function countsSql(s: string, matching: string): string {
  return `SELECT queue, state, sum(n) AS n, count(*) FILTER (WHERE pending) AS pending FROM (
         SELECT queue, state, n, false AS pending FROM ${s}.job_counts ${matching}
         UNION ALL
         SELECT queue, state, delta, true FROM ${s}.job_count_deltas ${matching}
       ) AS c GROUP BY queue, state`;
}

/**
 * The counts of `counts` (a `countsSql()`), and on each queue's Enqueued row the earliest due time
 * of its Enqueued jobs, from jobs_fetch (queue, priority DESC, run_at, id) without reading all of
 * them: the first entry of each priority holds that priority's earliest due time, and the priorities
 * are found one index descent each (a skip scan, through a recursive CTE). Only queues whose count
 * says some job waits are looked up.
 */
function queueStatsSql(s: string, counts: string): string {
  return `WITH counts AS (${counts}),
     oldest AS (
       SELECT w.queue, o.oldest FROM (SELECT queue FROM counts WHERE state = 'Enqueued' AND n > 0) AS w, LATERAL (
         WITH RECURSIVE priorities (priority) AS (
           SELECT max(priority) FROM ${s}.jobs WHERE state = 'Enqueued' AND queue = w.queue
           UNION ALL
           SELECT (SELECT max(priority) FROM ${s}.jobs WHERE state = 'Enqueued' AND queue = w.queue AND priority < p.priority)
           FROM priorities AS p WHERE p.priority IS NOT NULL
         )
         SELECT min((SELECT run_at FROM ${s}.jobs WHERE state = 'Enqueued' AND queue = w.queue AND priority = p.priority
                     ORDER BY run_at LIMIT 1)) AS oldest
         FROM priorities AS p WHERE p.priority IS NOT NULL
       ) AS o
     )
     SELECT c.queue, c.state, c.n, c.pending, o.oldest
     FROM counts AS c LEFT JOIN oldest AS o ON c.state = 'Enqueued' AND o.queue = c.queue
     ORDER BY c.queue`;
}
