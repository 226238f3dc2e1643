/**
 * The SQLite store's claim: the next Enqueued jobs of some queues moved to Processing, inside the
 * caller's transaction, their counter changes added to the transaction's `deltas`.
 */

import { JobStates, type JobRecord } from '../../types.ts';
import type { JobCountDeltas } from '../count-deltas.ts';
import { historyEntry, unreadableFailure } from '../store-helpers.ts';
import type { ClaimRequest } from '../store.ts';
import type { SqliteConnection } from './connection.ts';
import { ClaimGate } from './claim-gate.ts';
import { CLAIM_COLUMNS, readJob, unpackFlow, type ClaimRow } from './rows.ts';
import { sqlForList } from './sql-text.ts';

/**
 * Reads the next jobs in claim order, then moves them one by one: cheaper than UPDATE … RETURNING,
 * and keeps the order. A row that cannot be read (see `readJobRow()`) is claimed and failed at once,
 * with the reason naming the column, and the claim reads on, so that one bad row never blocks the
 * jobs behind it nor fails the claim.
 *
 * Flow control (see `ClaimGate`) costs a claim of jobs without it one probe of `queue_settings`: the
 * gate exists only once a queue of the request has settings in effect or a job read has a key of
 * its own. A job the gate passes over is left out of the reads that follow, and they go on until
 * the claim has `limit` jobs or none is left. `wakes` receives, per queue whose jobs a rate limit
 * passed over, when the first such window closes (epoch ms, the clock of `request.now`).
 */
export function claimJobs(
  connection: SqliteConnection,
  request: ClaimRequest,
  deltas: JobCountDeltas,
  wakes: Map<string, number>,
): JobRecord[] {
  // A worker with no free slot may ask for none; SQLite would read a negative LIMIT as none at all.
  if (request.limit <= 0) return [];
  const now = request.now.getTime();
  const update = connection.statement(
    `UPDATE jobs SET state = 'Processing', state_reason = NULL, state_changed_at = ?, attempt = attempt + 1,
       server_name = ?, lease_until = ?, progress = NULL, history = history || ? WHERE id = ?`,
  );
  const server = JSON.stringify(request.serverName);
  const claimed: JobRecord[] = [];
  let gate = ClaimGate.forQueues(connection, request);
  for (;;) {
    const wanted = request.limit - claimed.length;
    const rows = gate ? selectGated(connection, gate, wanted) : selectNext(connection, request.queues, wanted);
    let failed = 0;
    let passed = 0;
    for (const claimRow of rows) {
      const row = unpackFlow(claimRow);
      const attempt = Number(row.attempt) + 1;
      const { job, unreadable } = readJob({
        ...row,
        state: JobStates.Processing,
        state_reason: null,
        state_changed_at: now,
        attempt,
        server_name: request.serverName,
        lease_until: request.leaseUntil.getTime(),
        progress: null,
      });
      // An unreadable row is failed whatever its limits say: it never runs.
      if (unreadable === undefined && (gate !== undefined || row.concurrency_key != null || row.rate_limit_key != null)) {
        gate ??= new ClaimGate(connection, request, new Map());
        if (!gate.admit(job)) {
          passed++;
          continue;
        }
      }
      const entry = `,{"name":"Processing","at":${now},"serverName":${server},"attempt":${Number.isSafeInteger(attempt) ? attempt : 'null'}}`;
      update.run(now, request.serverName, request.leaseUntil.getTime(), entry, row.id);
      deltas.moved(row, JobStates.Enqueued, JobStates.Processing, request.now);
      if (unreadable === undefined) claimed.push(job);
      else {
        failUnreadable(connection, row.id, unreadable, request.now);
        deltas.moved(row, JobStates.Processing, JobStates.Failed, request.now);
        failed++;
      }
    }
    // Short of the limit only because bad rows or passed-over jobs took places: read the jobs behind
    // them (the next read leaves the passed-over ones out, so every read makes progress).
    if ((failed === 0 && passed === 0) || rows.length < wanted) break;
  }
  if (gate) {
    gate.save();
    for (const [queue, at] of gate.wakes) {
      const armed = wakes.get(queue);
      if (armed === undefined || at < armed) wakes.set(queue, at);
    }
  }
  return claimed;
}

/** The next `limit` Enqueued jobs of `queues`, in claim order. */
function selectNext(connection: SqliteConnection, queues: readonly string[], limit: number): ClaimRow[] {
  return connection.statement(selectNextSql(queues.length)).all(...queues, limit) as unknown as ClaimRow[];
}

const selectNextSql = sqlForList(
  (queues) => `SELECT ${CLAIM_COLUMNS} FROM jobs WHERE state = 'Enqueued' AND queue IN (${queues})
       ORDER BY priority DESC, run_at, id LIMIT ?`,
);

/**
 * The next `limit` Enqueued jobs of the queues the gate leaves open, in claim order, without those
 * of keys found full (each job against its own limit: one with a higher limit than the count is read).
 */
function selectGated(connection: SqliteConnection, gate: ClaimGate, limit: number): ClaimRow[] {
  const queues = gate.queues;
  if (queues.length === 0) return [];
  if (!gate.excludes) return selectNext(connection, queues, limit);
  const { concurrency, rate } = gate.exclusions();
  return connection
    .statement(
      `SELECT ${CLAIM_COLUMNS} FROM jobs WHERE state = 'Enqueued' AND queue IN (${queues.map(() => '?').join(', ')})
         AND (concurrency_key IS NULL OR NOT EXISTS (
           SELECT 1 FROM json_each(?) AS full WHERE full.key = jobs.concurrency_key AND full.value >= jobs.concurrency_limit))
         AND (rate_limit_key IS NULL OR NOT EXISTS (
           SELECT 1 FROM json_each(?) AS full WHERE full.key = jobs.rate_limit_key AND full.value >= jobs.rate_limit_max))
       ORDER BY priority DESC, run_at, id LIMIT ?`,
    )
    .all(...queues, concurrency, rate, limit) as unknown as ClaimRow[];
}

/** Moves a job just claimed, whose row cannot be read, to Failed: see `unreadableFailure()`. */
function failUnreadable(connection: SqliteConnection, rowId: number, reason: string, at: Date): void {
  const failed = unreadableFailure(reason, at);
  // No expiry: a failed job is kept until someone looks at it.
  connection
    .statement(
      `UPDATE jobs SET state = 'Failed', state_reason = ?, state_changed_at = ?, server_name = NULL, lease_until = NULL,
         expires_at = NULL, history = history || ? WHERE id = ? AND state = 'Processing'`,
    )
    .run(reason, at.getTime(), `,${historyEntry(failed)}`, rowId);
}
