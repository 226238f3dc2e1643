/**
 * Reads of single jobs and of the jobs maintenance looks for (due, with an expired lease, waiting
 * for a parent). Lists and searches for people are job-listing.ts's.
 */

import type { JobRecord, StateName, StateRecord } from '../../types.ts';
import { parseHistory } from '../store-helpers.ts';
import { isStateName } from '../unreadable-rows.ts';
import type { SqliteConnection } from './connection.ts';
import { JOB_COLUMNS, toJob, toRowId, type JobRow } from './rows.ts';

export function getJob(connection: SqliteConnection, id: string): JobRecord | undefined {
  const row = connection.statement(`SELECT ${JOB_COLUMNS} FROM jobs WHERE id = ?`).get(toRowId(id) ?? null) as JobRow | undefined;
  return row && toJob(row);
}

export function getHistory(connection: SqliteConnection, id: string): StateRecord[] {
  const row = connection.statement('SELECT history, state, state_changed_at FROM jobs WHERE id = ?').get(toRowId(id) ?? null) as
    { history: string; state: string; state_changed_at: number } | undefined;
  return row ? parseHistory(row.history, currentState(row)) : [];
}

export function listDueJobs(connection: SqliteConnection, now: Date, limit: number): JobRecord[] {
  // A due time that is not an integer (text compares above every number) would never come: it is
  // due now, first, and the job read says why (see readJobRow()).
  const rows = connection
    .statement(
      `SELECT ${JOB_COLUMNS} FROM jobs WHERE state = 'Scheduled' AND (run_at <= ? OR typeof(run_at) <> 'integer')
       ORDER BY typeof(run_at) = 'integer', run_at LIMIT ?`,
    )
    .all(now.getTime(), limit);
  return (rows as unknown as JobRow[]).map(toJob);
}

export function listExpiredLeases(connection: SqliteConnection, now: Date, limit: number): JobRecord[] {
  const rows = connection
    .statement(
      // A Processing job without a lease (written around the schema's checks) has no worker renewing it either.
      `SELECT ${JOB_COLUMNS} FROM jobs WHERE state = 'Processing' AND (lease_until < ? OR lease_until IS NULL) ORDER BY lease_until LIMIT ?`,
    )
    .all(now.getTime(), limit);
  return (rows as unknown as JobRow[]).map(toJob);
}

export function listContinuations(connection: SqliteConnection, parentId: string): JobRecord[] {
  const rows = connection
    .statement(`SELECT ${JOB_COLUMNS} FROM jobs WHERE state = 'Awaiting' AND parent_id = ? ORDER BY id`)
    .all(toRowId(parentId) ?? null);
  return (rows as unknown as JobRow[]).map(toJob);
}

export function listReleasableContinuations(connection: SqliteConnection, limit: number): JobRecord[] {
  // Through jobs_awaiting, which holds the Awaiting jobs alone: left to itself, the planner walks the
  // whole table in id order (to skip the sort), every maintenance pass, however many jobs finished.
  const rows = connection
    .statement(
      `SELECT ${JOB_COLUMNS.split(', ')
        .map((column) => `child.${column}`)
        .join(', ')} FROM jobs AS child INDEXED BY jobs_awaiting LEFT JOIN jobs AS parent ON parent.id = child.parent_id
       WHERE child.state = 'Awaiting' AND child.awaits_batch IS NULL AND (parent.id IS NULL OR parent.state IN ('Succeeded', 'Deleted'))
       ORDER BY child.id LIMIT ?`,
    )
    .all(limit);
  return (rows as unknown as JobRow[]).map(toJob);
}

/** The job's state as `parseHistory()` dates an unreadable stretch of its history with. */
function currentState(row: { state: string; state_changed_at: number }): { name: StateName; at: Date } | undefined {
  return isStateName(row.state) && Number.isFinite(row.state_changed_at)
    ? { name: row.state, at: new Date(row.state_changed_at) }
    : undefined;
}
