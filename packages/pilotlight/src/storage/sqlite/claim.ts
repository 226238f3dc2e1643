/**
 * The SQLite store's claim: the next Enqueued jobs of some queues moved to Processing, inside the
 * caller's transaction, their counter changes added to the transaction's `deltas`.
 */

import { JobStates, type JobRecord } from '../../types.ts';
import type { JobCountDeltas } from '../count-deltas.ts';
import { historyEntry, unreadableFailure } from '../store-helpers.ts';
import type { ClaimRequest } from '../store.ts';
import type { SqliteConnection } from './connection.ts';
import { JOB_COLUMNS, readJob, type JobRow } from './rows.ts';

/**
 * Reads the next jobs in claim order, then moves them one by one: cheaper than UPDATE … RETURNING,
 * and keeps the order. A row that cannot be read (see `readJobRow()`) is claimed and failed at once,
 * with the reason naming the column, and the claim reads on, so that one bad row never blocks the
 * jobs behind it nor fails the claim.
 */
export function claimJobs(connection: SqliteConnection, request: ClaimRequest, deltas: JobCountDeltas): JobRecord[] {
  const now = request.now.getTime();
  const select = connection.statement(
    `SELECT ${JOB_COLUMNS} FROM jobs WHERE state = 'Enqueued' AND queue IN (${request.queues.map(() => '?').join(', ')})
     ORDER BY priority DESC, run_at, id LIMIT ?`,
  );
  const update = connection.statement(
    `UPDATE jobs SET state = 'Processing', state_reason = NULL, state_changed_at = ?, attempt = attempt + 1,
       server_name = ?, lease_until = ?, progress = NULL, history = history || ? WHERE id = ?`,
  );
  const server = JSON.stringify(request.serverName);
  const claimed: JobRecord[] = [];
  for (;;) {
    const wanted = request.limit - claimed.length;
    const rows = select.all(...request.queues, wanted) as unknown as JobRow[];
    let failed = 0;
    for (const row of rows) {
      const attempt = Number(row.attempt) + 1;
      const entry = `,{"name":"Processing","at":${now},"serverName":${server},"attempt":${Number.isSafeInteger(attempt) ? attempt : 'null'}}`;
      update.run(now, request.serverName, request.leaseUntil.getTime(), entry, row.id);
      deltas.moved(row, JobStates.Enqueued, JobStates.Processing, request.now);
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
      if (unreadable === undefined) claimed.push(job);
      else {
        failUnreadable(connection, row.id, unreadable, request.now);
        deltas.moved(row, JobStates.Processing, JobStates.Failed, request.now);
        failed++;
      }
    }
    // Short of the limit only because bad rows took places: read the jobs behind them.
    if (failed === 0 || rows.length < wanted) return claimed;
  }
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
