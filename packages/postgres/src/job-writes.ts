import pg from 'pg';
import { JobStates } from 'pilotlight';
import type { JobRecord, StateName } from 'pilotlight';
import type { CreateJobResult, JobCountDeltas, NewJob, Transition } from 'pilotlight/store-kit';
import { ErrorCodes, historyEntry, isPinned, JobNotFoundError, pinnedResult, PilotlightError, retryJson } from 'pilotlight/store-kit';
import { deltaCte } from './counters.ts';
import { jobColumns, toJob, toRowId, type JobRow } from './rows.ts';
import { prepared, SqlParams } from './sql-params.ts';

/**
 * The writes every job change goes through: inserting a job, applying a guarded transition. Each
 * counts what it changed: in its own statement, or in the transaction's `deltas`, which the caller
 * records before committing (see counters.ts).
 */

const COLUMNS = jobColumns();
const FINISHED: readonly StateName[] = [JobStates.Succeeded, JobStates.Failed, JobStates.Deleted];
const FINISHED_SQL = `('Succeeded', 'Failed', 'Deleted')`;
const UNIQUE_VIOLATION = '23505';

/**
 * `wakeQueues` collects queues to NOTIFY on commit: those of Enqueued parents this insert locked.
 * A claim running meanwhile skipped that parent (SKIP LOCKED) and may have gone idle.
 */
export async function insertJob(
  client: pg.ClientBase,
  s: string,
  job: NewJob,
  deltas: JobCountDeltas,
  wakeQueues?: string[],
): Promise<CreateJobResult> {
  let parentState: StateName | undefined;
  let parentRowId: string | null = null;
  if (job.parentId !== undefined) {
    parentRowId = toRowId(job.parentId) ?? null;
    // FOR UPDATE: a parent finishing concurrently either commits before (we read its final state)
    // or waits for us (and then sees has_continuations and releases this continuation).
    const { rows } =
      parentRowId === null
        ? { rows: [] }
        : await client.query<{ state: StateName; queue: string }>(`SELECT state, queue FROM ${s}.jobs WHERE id = $1 FOR UPDATE`, [
            parentRowId,
          ]);
    if (!rows[0]) throw new JobNotFoundError(job.parentId, `Continuation parent job ${job.parentId} does not exist`);
    parentState = rows[0].state;
    if (parentState === JobStates.Enqueued) wakeQueues?.push(rows[0].queue);
  }
  // The holder of a dedup key may finish between our INSERT and our SELECT: then insert again.
  for (let tries = 0; ; tries++) {
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO ${s}.jobs (type, method, args, queue, priority, state, state_reason, run_at, created_at, state_changed_at,
                                    retry, parent_id, dedup_key, metadata, recurring_id, history)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11, $12, $13, $14, $15)
       ON CONFLICT (dedup_key) WHERE dedup_key IS NOT NULL AND state NOT IN ${FINISHED_SQL} DO NOTHING
       RETURNING id`,
      [
        job.type,
        job.method,
        job.argsJson,
        job.queue,
        job.priority,
        job.state.name,
        job.state.reason ?? null,
        job.runAt,
        job.state.at,
        retryJson(job.retry),
        parentRowId,
        job.dedupKey ?? null,
        Object.keys(job.metadata).length === 0 ? null : JSON.stringify(job.metadata),
        job.recurringId ?? null,
        historyEntry(job.state),
      ],
    );
    if (rows[0]) {
      if (parentRowId !== null) await client.query(`UPDATE ${s}.jobs SET has_continuations = true WHERE id = $1`, [parentRowId]);
      deltas.add(job.queue, job.type, job.state.name, 1);
      return { id: rows[0].id, created: true, ...(parentState && { parentState }) };
    }
    const existing = await client.query<{ id: string }>(`SELECT id FROM ${s}.jobs WHERE dedup_key = $1 AND state NOT IN ${FINISHED_SQL}`, [
      job.dedupKey ?? null,
    ]);
    if (existing.rows[0]) return { id: existing.rows[0].id, created: false, ...(parentState && { parentState }) };
    if (tries >= 10) {
      throw new PilotlightError(
        ErrorCodes.DEDUP_CONFLICT,
        `Could not insert job ${job.type} nor find the holder of its dedup key ${JSON.stringify(job.dedupKey)} (other transactions kept taking and releasing it, 10 times in a row); try again`,
      );
    }
  }
}

/** A job with neither a parent nor a dedup key: nothing to read first, it can go in one INSERT with others. */
export function isPlainJob(job: NewJob): boolean {
  return job.parentId === undefined && job.dedupKey === undefined;
}

/**
 * Plain jobs (see `isPlainJob()`) in one statement, one round trip however many: the INSERT and the
 * NOTIFY for their queues, which PostgreSQL delivers when the surrounding transaction commits (the
 * statement's own, or the caller's), never for a rollback. Ids in the order of `jobs`.
 */
export async function insertPlainJobs(
  db: pg.Pool | pg.ClientBase,
  s: string,
  channel: string,
  jobs: readonly NewJob[],
): Promise<CreateJobResult[]> {
  const p = new SqlParams();
  const column = <T>(pick: (job: NewJob) => T, type: string) => p.add(jobs.map(pick), `${type}[]`);
  const { rows } = await db.query<{ id: string }>(
    prepared(
      `WITH inserted AS (
         INSERT INTO ${s}.jobs (type, method, args, queue, priority, state, state_reason, run_at, created_at, state_changed_at,
                                retry, metadata, recurring_id, history)
         SELECT type, method, args, queue, priority, state, state_reason, run_at, at, at, retry::jsonb, metadata::jsonb, recurring_id, history
         FROM unnest(${column((job) => job.type, 'text')}, ${column((job) => job.method, 'text')}, ${column((job) => job.argsJson, 'text')},
                     ${column((job) => job.queue, 'text')}, ${column((job) => job.priority, 'integer')}, ${column((job) => job.state.name, 'text')},
                     ${column((job) => job.state.reason ?? null, 'text')}, ${column((job) => job.runAt, 'timestamptz')},
                     ${column((job) => job.state.at, 'timestamptz')}, ${column((job) => retryJson(job.retry), 'text')},
                     ${column((job) => (Object.keys(job.metadata).length === 0 ? null : JSON.stringify(job.metadata)), 'text')},
                     ${column((job) => job.recurringId ?? null, 'text')}, ${column((job) => historyEntry(job.state), 'text')})
           AS j(type, method, args, queue, priority, state, state_reason, run_at, at, retry, metadata, recurring_id, history)
         RETURNING id, queue, type, state
       ),
       woken AS (
         SELECT pg_notify(${p.add(channel, 'text')}, queue) FROM (SELECT DISTINCT queue FROM inserted WHERE state = 'Enqueued') AS q
       ),
       ${deltaCte(s, 'SELECT queue, type, state, NULL::timestamptz AS minute, 1 AS delta FROM inserted')}
       -- Naming woken is what makes it run. Identities are drawn in insertion order: by id is the order of jobs.
       SELECT id FROM inserted WHERE (SELECT count(*) FROM woken) >= 0 ORDER BY id`,
      p.values,
    ),
  );
  return rows.map((row) => ({ id: row.id, created: true }));
}

/** Applies one guarded change; `s` is the quoted schema. */
export async function applyTransition(
  client: pg.ClientBase,
  s: string,
  change: Transition,
  deltas: JobCountDeltas,
): Promise<JobRecord | undefined> {
  const { expect, to } = change;
  const rowId = toRowId(change.id);
  if (rowId === undefined) return undefined;
  // A worker finishing its own attempt knows the row: read back only what others may have changed.
  const pinned = isPinned(change);
  const sql = `UPDATE ${s}.jobs
     SET state = $1, state_reason = $2, state_changed_at = $3,
         run_at = coalesce($4, run_at), retry_count = coalesce($5, retry_count),
         attempt = coalesce($6, attempt), expires_at = $7,
         server_name = NULL, lease_until = NULL, history = history || ',' || $12
     WHERE id = $8 AND state = $9
       AND ($10::integer IS NULL OR attempt = $10)
       AND ($11::text IS NULL OR server_name = $11)
     RETURNING ${pinned ? 'has_continuations, progress' : COLUMNS}`;
  const params = [
    to.name,
    to.reason ?? null,
    to.at,
    change.runAt ?? null,
    change.retryCount ?? null,
    change.attempt ?? null,
    change.expiresAt ?? null,
    rowId,
    expect.state,
    expect.attempt ?? null,
    expect.serverName ?? null,
    historyEntry(to),
  ];
  // Only a finished job coming back (a requeue of a Deleted job, say) can enter the dedup index
  // and collide with another unfinished holder of its key; a job that is already unfinished is
  // already in the index under the same key. So only those changes pay for a SAVEPOINT, which
  // undoes the failed UPDATE alone and lets the rest of the batch commit.
  const mayCollide = FINISHED.includes(expect.state) && !FINISHED.includes(to.name);
  let rows: (JobRow | Pick<JobRow, 'has_continuations' | 'progress'>)[];
  if (mayCollide) {
    await client.query('SAVEPOINT pilotlight_transition');
    try {
      rows = (await client.query<JobRow>(sql, params)).rows;
      await client.query('RELEASE SAVEPOINT pilotlight_transition');
    } catch (error) {
      if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
      await client.query('ROLLBACK TO SAVEPOINT pilotlight_transition');
      return undefined;
    }
  } else {
    rows = (await client.query<JobRow>(sql, params)).rows;
  }
  const row = rows[0];
  if (!row) return undefined;
  // A pinned change's job is the row as its worker read it: its queue and type never change.
  deltas.moved(isPinned(change) ? change.job : (row as JobRow), expect.state, to.name, to.at);
  if (!isPinned(change)) return toJob(row as JobRow);
  return pinnedResult(change, row.has_continuations, row.progress ?? undefined);
}

/** Indexes of `changes` by ascending job id (ids that name no job last: they lock nothing). */
export function lockOrder(changes: readonly Transition[]): number[] {
  const key = (i: number) => {
    const rowId = toRowId(changes[i]!.id);
    return rowId === undefined ? undefined : BigInt(rowId);
  };
  return changes
    .map((_, i) => i)
    .sort((a, b) => {
      const x = key(a);
      const y = key(b);
      if (x === undefined || y === undefined) return x === y ? a - b : x === undefined ? 1 : -1;
      return x < y ? -1 : x > y ? 1 : a - b;
    });
}
