import type pg from 'pg';
import type { JobRecord } from 'pilotlight';
import { historyEntry, minuteOf, unreadableFailure, type ClaimRequest } from 'pilotlight/store-kit';
import { deltaCte } from './counters.ts';
import { claimOrder, jobColumns, jobRowFromValues, readJob, type JobRow } from './rows.ts';
import { preparedArrays, SqlParams } from './sql-params.ts';

/**
 * The claim, as two common table expressions (`next`, then `claimed`, returning every job column):
 * on its own in `claimJobs()`, and after the finished attempts in a busy worker's one-statement batch.
 *
 * `next` takes, from each queue, its first jobs in claim order, then the first of those overall.
 * Per queue, because `queue = ANY(…)` would make PostgreSQL read and sort every Enqueued job of
 * the queues, while `queue = q` walks jobs_fetch in its order and stops at the LIMIT: the claim
 * costs the same with ten jobs waiting or a million. FOR UPDATE SKIP LOCKED passes over rows
 * another claim (or transition) holds, so concurrent workers take different jobs instead of
 * queueing behind each other; under READ COMMITTED a row changed meanwhile is re-checked against
 * `state = 'Enqueued'` before it is locked. With several queues, rows locked but not taken are
 * released with the statement's transaction. UPDATE … RETURNING keeps no order: callers sort.
 */
export function claimCtes(s: string, request: ClaimRequest, p: SqlParams): string {
  const limit = p.add(request.limit, 'integer');
  return `next AS (
       SELECT first.id FROM unnest(${p.add(request.queues, 'text[]')}) AS q(queue), LATERAL (
         SELECT id, priority, run_at FROM ${s}.jobs
         WHERE state = 'Enqueued' AND queue = q.queue
         ORDER BY priority DESC, run_at, id
         LIMIT ${limit}
         FOR UPDATE SKIP LOCKED
       ) AS first
       ORDER BY first.priority DESC, first.run_at, first.id
       LIMIT ${limit}
     ),
     claimed AS (
       UPDATE ${s}.jobs AS j
       SET state = 'Processing', state_reason = NULL, state_changed_at = ${p.add(request.now)}, attempt = j.attempt + 1,
           server_name = ${p.add(request.serverName)}, lease_until = ${p.add(request.leaseUntil)}, progress = NULL,
           history = j.history || ',{"name":"Processing","at":' || ${p.add(request.now.getTime(), 'bigint')}
                     || ',"serverName":' || ${p.add(JSON.stringify(request.serverName), 'text')} || ',"attempt":' || (j.attempt + 1) || '}'
       FROM next WHERE j.id = next.id
       RETURNING ${jobColumns('j.')}
     )`;
}

/** The count changes of the claim CTEs: each claimed job left Enqueued for Processing. */
export const CLAIMED_CHANGES = `SELECT queue, type, 'Enqueued'::text AS state, NULL::timestamptz AS minute, -1 AS delta FROM claimed
         UNION ALL SELECT queue, type, 'Processing', NULL, 1 FROM claimed`;

/**
 * The claim on its own (one statement: atomic by itself), with its jobs in claim order. Claimed rows
 * that cannot be read are failed right after (see `keepReadable()`), and the claim goes on for the
 * places they took, so that one bad row never blocks the jobs behind it nor fails the claim.
 */
export async function claimJobs(db: pg.ClientBase | pg.Pool, s: string, request: ClaimRequest): Promise<JobRecord[]> {
  const claimed: JobRecord[] = [];
  for (;;) {
    const wanted = request.limit - claimed.length;
    const p = new SqlParams();
    const { rows } = await db.query(
      preparedArrays(
        `WITH ${claimCtes(s, { ...request, limit: wanted }, p)}, ${deltaCte(s, CLAIMED_CHANGES)} SELECT * FROM claimed`,
        p.values,
      ),
    );
    const readable = await keepReadable(
      db,
      s,
      request,
      rows.map((values) => jobRowFromValues(values, 0)),
    );
    claimed.push(...readable);
    if (readable.length === rows.length || rows.length < wanted) return claimed.sort(claimOrder);
  }
}

/**
 * The claimed jobs whose rows can be read; the others (see `readJobRow()`) are moved from the
 * Processing the claim gave them to Failed, the reason naming the column. A separate statement
 * after the claim's, only when there is such a row: if the process dies in between, the job's
 * lease runs out, maintenance requeues it, and the next claim fails it.
 */
export async function keepReadable(
  db: pg.ClientBase | pg.Pool,
  s: string,
  request: ClaimRequest,
  rows: readonly JobRow[],
): Promise<JobRecord[]> {
  const readable: JobRecord[] = [];
  const failed: { id: string; reason: string }[] = [];
  for (const row of rows) {
    const { job, unreadable } = readJob(row);
    if (unreadable === undefined) readable.push(job);
    else failed.push({ id: job.id, reason: unreadable });
  }
  if (failed.length === 0) return readable;
  const at = request.now;
  // No expiry: a failed job is kept until someone looks at it.
  await db.query(
    `WITH failed AS (
       UPDATE ${s}.jobs AS j
       SET state = 'Failed', state_reason = f.reason, state_changed_at = $4, server_name = NULL, lease_until = NULL, expires_at = NULL,
           history = j.history || ',' || f.entry
       FROM unnest($1::bigint[], $2::text[], $3::text[]) AS f(id, reason, entry)
       WHERE j.id = f.id AND j.state = 'Processing' AND j.server_name = $5
       RETURNING j.queue, j.type
     ),
     ${deltaCte(
       s,
       `SELECT queue, type, 'Processing'::text AS state, NULL::timestamptz AS minute, -1 AS delta FROM failed
        UNION ALL SELECT queue, type, 'Failed', $6::timestamptz, 1 FROM failed`,
     )}
     SELECT count(*) FROM failed`,
    [
      failed.map((f) => f.id),
      failed.map((f) => f.reason),
      failed.map((f) => historyEntry(unreadableFailure(f.reason, at))),
      at,
      request.serverName,
      new Date(minuteOf(at)),
    ],
  );
  return readable;
}
