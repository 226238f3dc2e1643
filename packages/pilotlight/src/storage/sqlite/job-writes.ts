/**
 * The SQLite store's statements that write jobs: insert (with its dedup key and continuation
 * parent) and the guarded state transition (the claim is in claim.ts). Each runs inside the caller's transaction and
 * adds what it changed to the transaction's `deltas`, which the caller writes before committing.
 */

import { JobNotFoundError } from '../../errors.ts';
import { JobStates, type JobProgress, type JobRecord, type StateName } from '../../types.ts';
import type { JobCountDeltas } from '../count-deltas.ts';
import { historyEntry, isPinned, pinnedResult, retryJson } from '../store-helpers.ts';
import type { CreateJobResult, NewJob, Transition } from '../store.ts';
import type { SqliteConnection } from './connection.ts';
import { countUnfinished } from './batches.ts';
import { takeDebounceKey, type DebouncedJob } from './debounce.ts';
import { JOB_COLUMNS, progressOf, toJob, toRowId, type JobRow } from './rows.ts';

const FINISHED_SQL = `('Succeeded', 'Failed', 'Deleted')`;

/**
 * Inserts `jobs` in order (see `insertJob()`); then tells each batch continuation how many members
 * of its batch are unfinished, the members created by this same call included. `debounced`
 * receives the waiting jobs that debounced jobs replaced.
 */
export function insertJobs(
  connection: SqliteConnection,
  jobs: readonly NewJob[],
  deltas: JobCountDeltas,
  debounced: DebouncedJob[],
): CreateJobResult[] {
  const results = jobs.map((job) => insertJob(connection, job, deltas, debounced));
  return results.map((result, i) => {
    const awaited = jobs[i]!.awaitsBatch;
    return awaited && result.created ? { ...result, batchUnfinished: countUnfinished(connection, awaited.batchId) } : result;
  });
}

/** Inserts `job`, or finds the unfinished job holding its dedup key; a debounced job replaces the waiting holder of its key. */
function insertJob(connection: SqliteConnection, job: NewJob, deltas: JobCountDeltas, debounced: DebouncedJob[]): CreateJobResult {
  let parentState: StateName | undefined;
  let parentRowId: number | null = null;
  if (job.parentId !== undefined) {
    parentRowId = toRowId(job.parentId) ?? null;
    const parent = connection.statement('SELECT state FROM jobs WHERE id = ?').get(parentRowId) as { state: StateName } | undefined;
    if (!parent) throw new JobNotFoundError(job.parentId, `Continuation parent job ${job.parentId} does not exist`);
    parentState = parent.state;
  }
  const now = job.state.at.getTime();
  // The debounce key is set once the job it replaces has left it (takeDebounceKey()).
  const inserted = connection
    .statement(
      `INSERT INTO jobs (type, method, args, queue, priority, state, state_reason, run_at, created_at, state_changed_at,
                       retry, parent_id, dedup_key, metadata, recurring_id, history,
                       concurrency_key, concurrency_limit, rate_limit_key, rate_limit_max, rate_limit_per,
                       batch_id, awaits_batch, awaits_batch_when)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (dedup_key) WHERE dedup_key IS NOT NULL AND state NOT IN ${FINISHED_SQL} DO NOTHING
     RETURNING id`,
    )
    .get(
      job.type,
      job.method,
      job.argsJson,
      job.queue,
      job.priority,
      job.state.name,
      job.state.reason ?? null,
      job.runAt.getTime(),
      now,
      now,
      retryJson(job.retry),
      parentRowId,
      job.dedupKey ?? null,
      Object.keys(job.metadata).length === 0 ? null : JSON.stringify(job.metadata),
      job.recurringId ?? null,
      historyEntry(job.state),
      job.concurrency?.key ?? null,
      job.concurrency?.limit ?? null,
      job.rateLimit?.key ?? null,
      job.rateLimit?.max ?? null,
      job.rateLimit?.per ?? null,
      job.batchId ?? null,
      job.awaitsBatch?.batchId ?? null,
      job.awaitsBatch?.when ?? null,
    ) as { id: number } | undefined;
  if (!inserted) {
    const existing = connection
      .statement(`SELECT id FROM jobs WHERE dedup_key = ? AND state NOT IN ${FINISHED_SQL}`)
      .get(job.dedupKey ?? null) as { id: number };
    return { id: String(existing.id), created: false, ...(parentState && { parentState }) };
  }
  // Same transaction as the parent's read: the parent cannot finish in between unseen.
  if (parentRowId !== null) connection.statement('UPDATE jobs SET has_continuations = 1 WHERE id = ?').run(parentRowId);
  deltas.add(job.queue, job.type, job.state.name, 1);
  const id = String(inserted.id);
  const replaced = job.debounceKey === undefined ? undefined : takeDebounceKey(connection, job.debounceKey, id, job.state.at, deltas);
  if (replaced) debounced.push(replaced);
  return { id, created: true, ...(parentState && { parentState }), ...(replaced && { replacedId: replaced.id }) };
}

/** Applies `change` if the job is still as `change.expect` says; the job after the change, or undefined. */
export function applyTransition(connection: SqliteConnection, change: Transition, deltas: JobCountDeltas): JobRecord | undefined {
  const to = change.to;
  const { expect } = change;
  // A worker finishing its own attempt knows the row: read back only what others may have changed.
  const pinned = isPinned(change);
  let row: JobRow | Pick<JobRow, 'has_continuations' | 'progress'> | undefined;
  try {
    row = runTransition(connection, change, pinned, false);
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    // The job would become a second waiting holder of its debounce key (a retry, or a requeue, while
    // a newer job of the key waits): it goes on without the key, the newer job keeps it.
    if (!/jobs\.debounce_key/.test((error as Error).message)) {
      // The job would become a second unfinished holder of its dedup key. SQLite undid just this
      // statement; the other changes of the batch (other callers') go on.
      return undefined;
    }
    try {
      row = runTransition(connection, change, pinned, true);
    } catch (retryError) {
      if (isUniqueViolation(retryError)) return undefined;
      throw retryError;
    }
  }
  if (!row) return undefined;
  // A pinned change's job is the row as its worker read it: its queue and type never change.
  deltas.moved(isPinned(change) ? change.job : (row as JobRow), expect.state, to.name, to.at);
  if (!isPinned(change)) return toJob(row as JobRow);
  const job = pinnedResult(change, row.has_continuations === 1, progressOf(row));
  return to.name !== JobStates.Succeeded || job.resultJson === change.resultJson ? job : { ...job, resultJson: change.resultJson };
}

/**
 * The guarded UPDATE of `applyTransition()`; `dropDebounceKey` clears the job's debounce key too. A
 * change to Succeeded stores its result, or none (the result is the latest success's); the other
 * changes leave the column out: an UPDATE that reads it (`CASE … ELSE result`) costs every
 * transition about 2 µs.
 */
function runTransition(
  connection: SqliteConnection,
  change: Transition,
  pinned: boolean,
  dropDebounceKey: boolean,
): JobRow | Pick<JobRow, 'has_continuations' | 'progress'> | undefined {
  const { to, expect } = change;
  // Plain `?` placeholders, a guard's value bound twice: node:sqlite binds them positionally with
  // no name lookups (named parameters cost a lookup per key per call), and before 22.20 it
  // skipped ?NNN placeholders (nodejs/node#59350).
  const expectAttempt = expect.attempt ?? null;
  const expectServer = expect.serverName ?? null;
  const storesResult = to.name === JobStates.Succeeded;
  const params = [
    to.name,
    to.reason ?? null,
    to.at.getTime(),
    change.runAt?.getTime() ?? null,
    change.retryCount ?? null,
    change.attempt ?? null,
    change.expiresAt?.getTime() ?? null,
    ...(storesResult ? [change.resultJson ?? null] : []),
    `,${historyEntry(to)}`,
    toRowId(change.id) ?? null,
    expect.state,
    expectAttempt,
    expectAttempt,
    expectServer,
    expectServer,
  ];
  return connection.statement(transitionSql(pinned, storesResult, dropDebounceKey)).get(...params) as JobRow | undefined;
}

/**
 * The texts of `runTransition()`'s UPDATE, built once each: a text built per call (a template with
 * its choices) is a new string whose hash the statement cache computes again, every transition.
 */
const TRANSITION_SQL = new Map<number, string>();

function transitionSql(pinned: boolean, storesResult: boolean, dropDebounceKey: boolean): string {
  const variant = (pinned ? 1 : 0) | (storesResult ? 2 : 0) | (dropDebounceKey ? 4 : 0);
  let sql = TRANSITION_SQL.get(variant);
  if (sql === undefined) {
    sql = `UPDATE jobs
       SET state = ?, state_reason = ?, state_changed_at = ?,
           run_at = coalesce(?, run_at), retry_count = coalesce(?, retry_count),
           attempt = coalesce(?, attempt), expires_at = ?,${storesResult ? ' result = ?,' : ''}
           server_name = NULL, lease_until = NULL, history = history || ?${dropDebounceKey ? ', debounce_key = NULL' : ''}
       WHERE id = ? AND state = ?
         AND (? IS NULL OR attempt = ?)
         AND (? IS NULL OR server_name = ?)
       RETURNING ${pinned ? 'has_continuations, progress' : JOB_COLUMNS}`;
    TRANSITION_SQL.set(variant, sql);
  }
  return sql;
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Error && /UNIQUE constraint failed/.test(error.message);
}

/** Records a running attempt's progress, outside any transaction (the job left Processing, or another attempt runs: nothing). */
export function setProgress(connection: SqliteConnection, id: string, attempt: number, progress: JobProgress): void {
  connection.write(() =>
    connection
      .statement(`UPDATE jobs SET progress = ? WHERE id = ? AND attempt = ? AND state = 'Processing'`)
      .run(JSON.stringify(progress), toRowId(id) ?? null, attempt),
  );
}
