import type pg from 'pg';
import type { JobRecord } from 'pilotlight';
import { historyEntry, minuteOf, unreadableFailure, type ClaimRequest } from 'pilotlight/store-kit';
import { deltaCte } from './counters.ts';
import { claimUnderConcurrencyKeys } from './concurrency-key-claim.ts';
import type { FlowControl } from './flow-claim.ts';
import { CLAIMED_CHANGES, claimedCte } from './claim-update-sql.ts';
import { claimOrder, JOB_COLUMNS, jobRowFromValues, readJob, type JobRow } from './rows.ts';
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
 *
 * Flow control: a paused queue is left out. If any job `next` picked has a concurrency key or a
 * rate limit, or is of a queue with a concurrency or rate limit, it is `flow_controlled` and
 * `claimed` takes nothing: the caller claims again through `claimUnderConcurrencyKeys()`, which takes
 * the locks that keep those limits across workers (see `flowControlledRow()`). So jobs without flow
 * control keep this one statement, the look-up of their queues' settings its only extra cost.
 */
export function claimCtes(s: string, request: ClaimRequest, p: SqlParams): string {
  const limit = p.add(request.limit, 'integer');
  return `next AS (
       SELECT id, bool_or(flow) OVER () AS flow_controlled FROM (
         SELECT first.id, first.flow FROM (
           SELECT q.queue, qs.concurrency_limit IS NOT NULL OR qs.rate_limit_max IS NOT NULL AS limited
           FROM unnest(${p.add(request.queues, 'text[]')}) AS q(queue) LEFT JOIN ${s}.queue_settings AS qs ON qs.queue = q.queue
           WHERE qs.paused IS NOT TRUE
         ) AS q, LATERAL (
           SELECT id, priority, run_at, (q.limited IS TRUE OR concurrency_key IS NOT NULL OR rate_limit_key IS NOT NULL) AS flow
           FROM ${s}.jobs
           WHERE state = 'Enqueued' AND queue = q.queue
           ORDER BY priority DESC, run_at, id
           LIMIT ${limit}
           FOR UPDATE SKIP LOCKED
         ) AS first
         ORDER BY first.priority DESC, first.run_at, first.id
         LIMIT ${limit}
       ) AS picked
     ),
     ${claimedCte(s, request, p)}`;
}

/**
 * A row of NULLs after the claimed jobs (in the same columns, after `leading` ones) when `next`
 * found flow control: its NULL id tells the caller to claim through `claimUnderConcurrencyKeys()`
 * instead (see `isFlowControlled()`). The NULLs take their types from the UNION they are part of.
 */
export function flowControlledRow(leading = ''): string {
  return `SELECT ${leading}${JOB_COLUMNS.map(() => 'NULL').join(', ')} FROM (SELECT FROM next WHERE next.flow_controlled LIMIT 1) AS flow`;
}

/** Whether a row the claim statement returned is `flowControlledRow()`'s, not a job. */
export function isFlowControlled(row: JobRow): boolean {
  return row.id === null;
}

/** Runs `work` in a transaction: a new one, or the one the caller is in. */
export type InTransaction = <T>(work: (client: pg.ClientBase) => Promise<T>) => Promise<T>;

/**
 * The claim on its own (one statement: atomic by itself), with its jobs in claim order; when it
 * finds flow control, the claim under flow control instead (`claimUnderConcurrencyKeys()`), at once
 * while claims of these queues met flow control lately (`flow.recent`).
 * Claimed rows that cannot be read are failed right after (see `keepReadable()`), and the claim goes
 * on for the places they took, so that one bad row never blocks the jobs behind it nor fails the claim.
 */
export async function claimJobs(
  db: pg.ClientBase | pg.Pool,
  s: string,
  request: ClaimRequest,
  flow: FlowControl,
  inTransaction: InTransaction,
): Promise<JobRecord[]> {
  const claimed: JobRecord[] = [];
  for (;;) {
    const wanted = { ...request, limit: request.limit - claimed.length };
    const batch = flow.recent.expected(wanted.queues)
      ? await claimUnderConcurrencyKeys(db, s, wanted, flow, inTransaction)
      : await plainClaim(db, s, wanted, flow, inTransaction);
    const readable = await keepReadable(db, s, request, batch);
    claimed.push(...readable);
    if (readable.length === batch.length || batch.length < wanted.limit) return claimed.sort(claimOrder);
  }
}

/** The claim's one statement; when it finds flow control, the claim under flow control instead. */
async function plainClaim(
  db: pg.ClientBase | pg.Pool,
  s: string,
  request: ClaimRequest,
  flow: FlowControl,
  inTransaction: InTransaction,
): Promise<JobRow[]> {
  const p = new SqlParams();
  const { rows } = await db.query(
    preparedArrays(
      `WITH ${claimCtes(s, request, p)}, ${deltaCte(s, CLAIMED_CHANGES)} SELECT * FROM claimed UNION ALL ${flowControlledRow()}`,
      p.values,
    ),
  );
  const batch = rows.map((values) => jobRowFromValues(values, 0));
  if (!batch.some(isFlowControlled)) return batch;
  flow.recent.found(request.queues);
  return claimUnderConcurrencyKeys(db, s, request, flow, inTransaction);
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
