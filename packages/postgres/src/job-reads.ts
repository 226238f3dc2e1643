import type pg from 'pg';
import type { JobRecord, StateRecord } from 'pilotlight';
import { isStateName, parseHistory } from 'pilotlight/store-kit';
import { jobColumns, toJob, toRowId, type JobRow } from './rows.ts';

/**
 * Reads of single jobs and of the jobs maintenance looks for (due, with an expired lease, waiting
 * for a parent). Lists and searches for people are job-listing.ts's.
 */

const COLUMNS = jobColumns();

export async function getJob(db: pg.Pool, s: string, id: string): Promise<JobRecord | undefined> {
  const rowId = toRowId(id);
  if (rowId === undefined) return undefined;
  const { rows } = await db.query<JobRow>(`SELECT ${COLUMNS} FROM ${s}.jobs WHERE id = $1`, [rowId]);
  return rows[0] && toJob(rows[0]);
}

export async function getHistory(db: pg.Pool, s: string, id: string): Promise<StateRecord[]> {
  const rowId = toRowId(id);
  if (rowId === undefined) return [];
  const { rows } = await db.query<{ history: string; state: string; state_changed_at: Date }>(
    `SELECT history, state, state_changed_at FROM ${s}.jobs WHERE id = $1`,
    [rowId],
  );
  const row = rows[0];
  if (!row) return [];
  // The current state dates an unreadable stretch of the history, if there is one.
  const current =
    isStateName(row.state) && Number.isFinite(row.state_changed_at.getTime()) ? { name: row.state, at: row.state_changed_at } : undefined;
  return parseHistory(row.history, current);
}

export async function listDueJobs(db: pg.Pool, s: string, now: Date, limit: number): Promise<JobRecord[]> {
  const { rows } = await db.query<JobRow>(
    `SELECT ${COLUMNS} FROM ${s}.jobs WHERE state = 'Scheduled' AND run_at <= $1 ORDER BY run_at, id LIMIT $2`,
    [now, limit],
  );
  return rows.map(toJob);
}

export async function listExpiredLeases(db: pg.Pool, s: string, now: Date, limit: number): Promise<JobRecord[]> {
  const { rows } = await db.query<JobRow>(
    // A Processing job without a lease (written around the schema's checks) has no worker renewing it either.
    `SELECT ${COLUMNS} FROM ${s}.jobs WHERE state = 'Processing' AND (lease_until < $1 OR lease_until IS NULL)
     ORDER BY lease_until NULLS FIRST, id LIMIT $2`,
    [now, limit],
  );
  return rows.map(toJob);
}

export async function listContinuations(db: pg.Pool, s: string, parentId: string): Promise<JobRecord[]> {
  const rowId = toRowId(parentId);
  if (rowId === undefined) return [];
  const { rows } = await db.query<JobRow>(`SELECT ${COLUMNS} FROM ${s}.jobs WHERE state = 'Awaiting' AND parent_id = $1 ORDER BY id`, [
    rowId,
  ]);
  return rows.map(toJob);
}

export async function listReleasableContinuations(db: pg.Pool, s: string, limit: number): Promise<JobRecord[]> {
  const { rows } = await db.query<JobRow>(
    `SELECT ${jobColumns('child.')}
     FROM ${s}.jobs AS child LEFT JOIN ${s}.jobs AS parent ON parent.id = child.parent_id
     WHERE child.state = 'Awaiting' AND child.awaits_batch IS NULL AND (parent.id IS NULL OR parent.state IN ('Succeeded', 'Deleted'))
     ORDER BY child.id LIMIT $1`,
    [limit],
  );
  return rows.map(toJob);
}
