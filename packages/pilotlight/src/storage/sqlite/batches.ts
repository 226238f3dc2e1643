/**
 * Batches (migration 4): jobs sharing a `batch_id`, found through jobs_batch, and batch
 * continuations, `Awaiting` jobs whose `awaits_batch` names the batch, found through
 * jobs_awaiting_batch (neither index names the state, which is read from the rows). A member is unfinished until it is Succeeded, Failed or Deleted.
 */

import { ErrorCodes, JobNotFoundError, PilotlightError } from '../../errors.ts';
import type { JobRecord, StateName } from '../../types.ts';
import { emptyCounts } from '../job-queries.ts';
import { isStateName } from '../unreadable-rows.ts';
import type { SqliteConnection } from './connection.ts';
import { JOB_COLUMNS, toJob, toRowId, type JobRow } from './rows.ts';

/** How many members of `batchId` are unfinished. */
export function countUnfinished(connection: SqliteConnection, batchId: string): number {
  const row = connection
    .statement(
      `SELECT count(*) AS n FROM jobs
       WHERE batch_id = ? AND batch_id IS NOT NULL AND state <> 'Succeeded' AND state <> 'Failed' AND state <> 'Deleted'`,
    )
    .get(batchId) as { n: number };
  return row.n;
}

export function countBatch(connection: SqliteConnection, batchId: string): Record<StateName, number> {
  const rows = connection
    .statement('SELECT state, count(*) AS n FROM jobs WHERE batch_id = ? AND batch_id IS NOT NULL GROUP BY state')
    .all(batchId) as { state: string; n: number }[];
  const counts = emptyCounts();
  for (const row of rows) if (isStateName(row.state)) counts[row.state] = row.n;
  return counts;
}

/** Makes the jobs `jobIds` members of `batchId`; inside the caller's transaction, which an error rolls back. */
export function addToBatch(connection: SqliteConnection, batchId: string, jobIds: readonly string[]): void {
  const ids = [...new Set(jobIds)];
  const rowIds: number[] = [];
  for (const id of ids) {
    const rowId = toRowId(id);
    const row =
      rowId === undefined
        ? undefined
        : (connection.statement('SELECT batch_id FROM jobs WHERE id = ?').get(rowId) as { batch_id: string | null } | undefined);
    if (!row) throw new JobNotFoundError(id, `Job ${id} does not exist: it cannot join batch ${batchId}`);
    if (row.batch_id !== null) {
      throw new PilotlightError(
        ErrorCodes.BATCH_CONFLICT,
        `Job ${id} already belongs to batch ${row.batch_id}: a job is a member of one batch at most, so it cannot join batch ${batchId}. Leave it out of the ids`,
      );
    }
    rowIds.push(rowId!);
  }
  const update = connection.statement('UPDATE jobs SET batch_id = ? WHERE id = ?');
  for (const rowId of rowIds) update.run(batchId, rowId);
}

/** The `Awaiting` continuations of `batchId`, oldest first. */
export function listBatchContinuations(connection: SqliteConnection, batchId: string): JobRecord[] {
  const rows = connection
    .statement(`SELECT ${JOB_COLUMNS} FROM jobs WHERE state = 'Awaiting' AND awaits_batch IS NOT NULL AND awaits_batch = ? ORDER BY id`)
    .all(batchId) as unknown as JobRow[];
  return rows.map(toJob);
}

/** `Awaiting` batch continuations whose batch has no unfinished member, oldest first. */
export function listReleasableBatchContinuations(connection: SqliteConnection, limit: number): JobRecord[] {
  // Through jobs_awaiting, which holds the Awaiting jobs alone (batch continuations among them), not
  // jobs_awaiting_batch, which keeps the released ones too: left to itself, the planner walks the
  // whole table, every maintenance pass, however many jobs finished.
  const rows = connection
    .statement(
      `SELECT ${JOB_COLUMNS} FROM jobs AS continuation INDEXED BY jobs_awaiting
       WHERE continuation.state = 'Awaiting' AND continuation.awaits_batch IS NOT NULL
         AND NOT EXISTS (
           SELECT 1 FROM jobs AS member WHERE member.batch_id = continuation.awaits_batch AND member.batch_id IS NOT NULL
             AND member.state <> 'Succeeded' AND member.state <> 'Failed' AND member.state <> 'Deleted')
       ORDER BY continuation.id LIMIT ?`,
    )
    .all(limit) as unknown as JobRow[];
  return rows.map(toJob);
}
