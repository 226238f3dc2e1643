import type pg from 'pg';
import type { JobRecord, StateName } from 'pilotlight';
import { emptyCounts, ErrorCodes, isStateName, JobNotFoundError, PilotlightError } from 'pilotlight/store-kit';
import { jobColumns, toJob, toRowId, type JobRow } from './rows.ts';

/**
 * Batches (migration 4): members carry `batch_id` (jobs_batch: by batch and state), batch
 * continuations wait in Awaiting with `awaits_batch` (jobs_awaiting_batch). A batch is its members:
 * there is no batch row.
 */

/** How many members of the batch are in each state. */
export async function countBatch(db: pg.Pool, s: string, batchId: string): Promise<Record<StateName, number>> {
  const { rows } = await db.query<{ state: string; n: number }>(
    `SELECT state, count(*)::integer AS n FROM ${s}.jobs WHERE batch_id = $1 GROUP BY state`,
    [batchId],
  );
  const counts = emptyCounts();
  for (const row of rows) if (isStateName(row.state)) counts[row.state] = row.n;
  return counts;
}

/**
 * Makes the jobs members of the batch, in the caller's transaction: all of them or none. The rows
 * are locked first (in id order, as every batch of changes locks them), so a job cannot join two
 * batches at once.
 */
export async function addToBatch(client: pg.ClientBase, s: string, batchId: string, jobIds: readonly string[]): Promise<void> {
  const rowIds = new Map<string, string>();
  for (const id of jobIds) {
    const rowId = toRowId(id);
    if (rowId === undefined) throw notFound(id);
    rowIds.set(rowId, id);
  }
  const { rows } = await client.query<{ id: string; batch_id: string | null }>(
    `SELECT id, batch_id FROM ${s}.jobs WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE`,
    [[...rowIds.keys()]],
  );
  const found = new Map(rows.map((row) => [row.id, row.batch_id]));
  for (const [rowId, id] of rowIds) {
    if (!found.has(rowId)) throw notFound(id);
    const current = found.get(rowId);
    if (current != null) {
      throw new PilotlightError(
        ErrorCodes.BATCH_CONFLICT,
        `Job ${id} already belongs to batch ${JSON.stringify(current)}: a job is a member of one batch at most; continue after that batch instead, or leave the job out`,
      );
    }
  }
  await client.query(`UPDATE ${s}.jobs SET batch_id = $1 WHERE id = ANY($2::bigint[])`, [batchId, [...rowIds.keys()]]);
}

function notFound(id: string): JobNotFoundError {
  return new JobNotFoundError(id, `Cannot add job ${id} to a batch: it does not exist`);
}

/** The batch's continuations still Awaiting, oldest first. */
export async function listBatchContinuations(db: pg.Pool, s: string, batchId: string): Promise<JobRecord[]> {
  const { rows } = await db.query<JobRow>(
    `SELECT ${jobColumns()} FROM ${s}.jobs WHERE state = 'Awaiting' AND awaits_batch = $1 ORDER BY id`,
    [batchId],
  );
  return rows.map(toJob);
}

/** Awaiting batch continuations whose batch has no member left unfinished (not Succeeded, Failed or Deleted). */
export async function listReleasableBatchContinuations(db: pg.Pool, s: string, limit: number): Promise<JobRecord[]> {
  const { rows } = await db.query<JobRow>(
    `SELECT ${jobColumns('c.')} FROM ${s}.jobs AS c
     WHERE c.state = 'Awaiting' AND c.awaits_batch IS NOT NULL
       AND NOT EXISTS (
         SELECT 1 FROM ${s}.jobs AS m
         WHERE m.batch_id = c.awaits_batch AND m.state NOT IN ('Succeeded', 'Failed', 'Deleted')
       )
     ORDER BY c.id LIMIT $1`,
    [limit],
  );
  return rows.map(toJob);
}
