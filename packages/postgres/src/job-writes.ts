import pg from 'pg';
import { JobStates } from 'pilotlight';
import type { JobProgress, JobRecord, StateName } from 'pilotlight';
import type { CreateJobResult, JobCountDeltas, NewJob, Transition } from 'pilotlight/store-kit';
import {
  debouncedJobExpiry,
  ErrorCodes,
  historyEntry,
  isPinned,
  JobNotFoundError,
  pinnedResult,
  PilotlightError,
  retryJson,
} from 'pilotlight/store-kit';
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
 * The flow-control and batch columns a job is inserted with, each with its SQL type and its value
 * (NULL when the job has none): in `insertJob()`, and in `insertPlainJobs()` when a job of the batch
 * has one of them (a batch of jobs with none leaves them out of its statement).
 */
const FLOW_COLUMNS: readonly [name: string, type: string, pick: (job: NewJob) => string | number | null][] = [
  ['concurrency_key', 'text', (job) => job.concurrency?.key ?? null],
  ['concurrency_limit', 'integer', (job) => job.concurrency?.limit ?? null],
  ['rate_limit_key', 'text', (job) => job.rateLimit?.key ?? null],
  ['rate_limit_max', 'integer', (job) => job.rateLimit?.max ?? null],
  ['rate_limit_per', 'bigint', (job) => job.rateLimit?.per ?? null],
  ['batch_id', 'text', (job) => job.batchId ?? null],
];
const FLOW_COLUMN_NAMES = FLOW_COLUMNS.map(([name]) => name).join(', ');

function hasFlowColumns(job: NewJob): boolean {
  return job.concurrency !== undefined || job.rateLimit !== undefined || job.batchId !== undefined;
}

/** What `insertJob()` did besides inserting, for the store to announce once the transaction commits. */
export interface InsertEffects {
  /** Queues to NOTIFY: of Enqueued parents this insert locked (a claim running meanwhile skipped them, SKIP LOCKED, and may have gone idle). */
  readonly wakeQueues: string[];
  /** Waiting jobs a debounced job replaced (now Deleted), with the state they left. */
  readonly replaced: { readonly id: string; readonly from: StateName }[];
}

/** The INSERT of one job; `withId`: with its id as `$25` (reserved by `reserveJobId()`). */
function insertSql(s: string, withId: boolean): string {
  return `INSERT INTO ${s}.jobs (type, method, args, queue, priority, state, state_reason, run_at, created_at, state_changed_at,
                                 retry, parent_id, dedup_key, metadata, recurring_id, history, ${FLOW_COLUMN_NAMES},
                                 debounce_key, awaits_batch, awaits_batch_when${withId ? ', id' : ''})
     ${withId ? 'OVERRIDING SYSTEM VALUE ' : ''}VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11, $12, $13, $14, $15,
                                 $16, $17, $18, $19, $20, $21, $22, $23, $24${withId ? ', $25' : ''})
     ON CONFLICT (dedup_key) WHERE dedup_key IS NOT NULL AND state NOT IN ${FINISHED_SQL} DO NOTHING
     RETURNING id`;
}

export async function insertJob(
  client: pg.ClientBase,
  s: string,
  job: NewJob,
  deltas: JobCountDeltas,
  effects?: InsertEffects,
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
    if (parentState === JobStates.Enqueued) effects?.wakeQueues.push(rows[0].queue);
  }
  // A debounced job's id is known before it is inserted: the job it replaces names it in its reason.
  const debounced = job.debounceKey !== undefined;
  const id = debounced ? await reserveJobId(client, s) : undefined;
  const params = [
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
    ...FLOW_COLUMNS.map(([, , pick]) => pick(job)),
    job.debounceKey ?? null,
    job.awaitsBatch?.batchId ?? null,
    job.awaitsBatch?.when ?? null,
    ...(id === undefined ? [] : [id]),
  ];
  const sql = insertSql(s, debounced);
  // Producers of one debounce key take turns (until their transactions end): each then sees the
  // holder the previous one committed, and replaces it, instead of failing on jobs_debounce over and
  // over while many race (the retries below remain for a job a transition brings back with the key).
  if (debounced) await client.query(`SELECT pg_advisory_xact_lock(${s}.flow_lock_id('debounce', $1))`, [job.debounceKey]);
  // The holder of a dedup key may finish between our INSERT and our SELECT: then insert again. A
  // racing producer may take the debounce key between our replace and our INSERT: then replace again.
  for (let tries = 0; ; tries++) {
    let inserted: string | undefined;
    let replaced: HolderRow | undefined;
    if (debounced) {
      // The replace and the INSERT undone together, alone, when the key was taken meanwhile: the
      // caller's transaction goes on.
      await client.query('SAVEPOINT pilotlight_debounce');
      try {
        replaced = await replaceDebounceHolder(client, s, job, id!);
        inserted = (await client.query<{ id: string }>(sql, params)).rows[0]?.id;
      } catch (error) {
        if (!isDebounceConflict(error)) throw error;
        await client.query('ROLLBACK TO SAVEPOINT pilotlight_debounce');
        if (tries >= MAX_KEY_TRIES) throw keyConflict(job, 'debounce key', job.debounceKey);
        continue;
      }
      // Not inserted (its dedup key is held): it replaces nothing either.
      await client.query(inserted === undefined ? 'ROLLBACK TO SAVEPOINT pilotlight_debounce' : 'RELEASE SAVEPOINT pilotlight_debounce');
    } else {
      inserted = (await client.query<{ id: string }>(sql, params)).rows[0]?.id;
    }
    if (inserted !== undefined) {
      if (parentRowId !== null) await client.query(`UPDATE ${s}.jobs SET has_continuations = true WHERE id = $1`, [parentRowId]);
      deltas.add(job.queue, job.type, job.state.name, 1);
      if (replaced) {
        deltas.moved(replaced, replaced.state, JobStates.Deleted, job.state.at);
        effects?.replaced.push({ id: replaced.id, from: replaced.state });
      }
      const batchUnfinished = job.awaitsBatch && (await countUnfinishedMembers(client, s, job.awaitsBatch.batchId));
      return {
        id: inserted,
        created: true,
        ...(parentState && { parentState }),
        ...(replaced && { replacedId: replaced.id }),
        ...(batchUnfinished !== undefined && { batchUnfinished }),
      };
    }
    const existing = await client.query<{ id: string }>(`SELECT id FROM ${s}.jobs WHERE dedup_key = $1 AND state NOT IN ${FINISHED_SQL}`, [
      job.dedupKey ?? null,
    ]);
    if (existing.rows[0]) return { id: existing.rows[0].id, created: false, ...(parentState && { parentState }) };
    if (tries >= MAX_KEY_TRIES) throw keyConflict(job, 'dedup key', job.dedupKey);
  }
}

/** Tries of an insert whose dedup or debounce key other transactions keep taking and releasing. */
const MAX_KEY_TRIES = 10;

function keyConflict(job: NewJob, what: string, key: string | undefined): PilotlightError {
  return new PilotlightError(
    ErrorCodes.DEDUP_CONFLICT,
    `Could not insert job ${job.type} nor find the holder of its ${what} ${JSON.stringify(key)} (other transactions kept taking and releasing it, ${MAX_KEY_TRIES} times in a row); try again`,
  );
}

/** The id the next job inserted would get, taken now from the identity's sequence (never handed out again). */
async function reserveJobId(client: pg.ClientBase, s: string): Promise<string> {
  const { rows } = await client.query<{ id: string }>(`SELECT nextval(pg_get_serial_sequence($1, 'id')) AS id`, [`${s}.jobs`]);
  return rows[0]!.id;
}

interface HolderRow {
  readonly id: string;
  readonly queue: string;
  readonly type: string;
  readonly state: StateName;
}

/**
 * Moves the waiting (Enqueued or Scheduled) holder of `job`'s debounce key to Deleted, naming the
 * job `id` that replaces it. Under READ COMMITTED a holder another producer inserted but has not
 * committed is not seen here: our INSERT then waits for that producer, and fails on jobs_debounce
 * if it commits, and the caller replaces again, that holder this time.
 */
async function replaceDebounceHolder(client: pg.ClientBase, s: string, job: NewJob, id: string): Promise<HolderRow | undefined> {
  const deleted = { name: JobStates.Deleted, at: job.state.at, reason: `Debounced: replaced by job ${id}` };
  const { rows } = await client.query<HolderRow>(
    // FOR UPDATE: the state the holder leaves, as locked (a producer replacing it meanwhile leaves it Deleted: not a holder).
    `WITH holder AS (SELECT id, state FROM ${s}.jobs WHERE debounce_key = $1 AND state IN ('Enqueued', 'Scheduled') FOR UPDATE)
     UPDATE ${s}.jobs AS j
     SET state = 'Deleted', state_reason = $2, state_changed_at = $3, expires_at = $5, history = j.history || ',' || $4
     FROM holder WHERE j.id = holder.id
     RETURNING j.id, j.queue, j.type, holder.state`,
    [job.debounceKey, deleted.reason, deleted.at, historyEntry(deleted), debouncedJobExpiry(deleted.at)],
  );
  return rows[0];
}

function isDebounceConflict(error: unknown): boolean {
  const { code, constraint } = error as { code?: string; constraint?: string };
  return code === UNIQUE_VIOLATION && constraint === 'jobs_debounce';
}

/** Members of a batch not yet Succeeded, Failed or Deleted. */
async function countUnfinishedMembers(client: pg.ClientBase, s: string, batchId: string): Promise<number> {
  const { rows } = await client.query<{ n: number }>(
    `SELECT count(*)::integer AS n FROM ${s}.jobs WHERE batch_id = $1 AND state NOT IN ${FINISHED_SQL}`,
    [batchId],
  );
  return rows[0]!.n;
}

/**
 * A job with neither a parent, a dedup key, a debounce key nor a batch to wait for: nothing to read
 * or replace first, it can go in one INSERT with others.
 */
export function isPlainJob(job: NewJob): boolean {
  return job.parentId === undefined && job.dedupKey === undefined && job.debounceKey === undefined && job.awaitsBatch === undefined;
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
  const flow = jobs.some(hasFlowColumns);
  const flowNames = flow ? `, ${FLOW_COLUMN_NAMES}` : '';
  const flowValues = flow ? FLOW_COLUMNS.map(([, type, pick]) => `, ${column(pick, type)}`).join('') : '';
  const { rows } = await db.query<{ id: string }>(
    prepared(
      `WITH inserted AS (
         INSERT INTO ${s}.jobs (type, method, args, queue, priority, state, state_reason, run_at, created_at, state_changed_at,
                                retry, metadata, recurring_id, history${flowNames})
         SELECT type, method, args, queue, priority, state, state_reason, run_at, at, at, retry::jsonb, metadata::jsonb, recurring_id, history${flowNames}
         FROM unnest(${column((job) => job.type, 'text')}, ${column((job) => job.method, 'text')}, ${column((job) => job.argsJson, 'text')},
                     ${column((job) => job.queue, 'text')}, ${column((job) => job.priority, 'integer')}, ${column((job) => job.state.name, 'text')},
                     ${column((job) => job.state.reason ?? null, 'text')}, ${column((job) => job.runAt, 'timestamptz')},
                     ${column((job) => job.state.at, 'timestamptz')}, ${column((job) => retryJson(job.retry), 'text')},
                     ${column((job) => (Object.keys(job.metadata).length === 0 ? null : JSON.stringify(job.metadata)), 'text')},
                     ${column((job) => job.recurringId ?? null, 'text')}, ${column((job) => historyEntry(job.state), 'text')}${flowValues})
           AS j(type, method, args, queue, priority, state, state_reason, run_at, at, retry, metadata, recurring_id, history${flowNames})
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
  // A job coming back to a waiting state while another waiting job holds its debounce key (a job
  // created while it ran: the newer one waits behind it) gives up the key rather than fail: at most
  // one waiting job holds a key, and the change still applies.
  const sql = `UPDATE ${s}.jobs AS j
     SET state = $1, state_reason = $2, state_changed_at = $3,
         run_at = coalesce($4, run_at), retry_count = coalesce($5, retry_count),
         attempt = coalesce($6, attempt), expires_at = $7,
         server_name = NULL, lease_until = NULL, history = history || ',' || $12,
         result = CASE WHEN $1 = 'Succeeded' THEN $13 ELSE result END,
         debounce_key = CASE WHEN debounce_key IS NOT NULL AND $1 IN ('Enqueued', 'Scheduled') AND EXISTS (
                          SELECT 1 FROM ${s}.jobs AS other
                          WHERE other.debounce_key = j.debounce_key AND other.state IN ('Enqueued', 'Scheduled') AND other.id <> j.id
                        ) THEN NULL ELSE debounce_key END
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
    change.resultJson ?? null,
  ];
  const update = () => client.query<JobRow>(sql, params);
  let rows: (JobRow | Pick<JobRow, 'has_continuations' | 'progress'>)[];
  if (mayCollide(change)) {
    // A SAVEPOINT undoes the failed UPDATE alone and lets the rest of the batch commit.
    await client.query('SAVEPOINT pilotlight_transition');
    try {
      rows = (await update()).rows;
    } catch (error) {
      await client.query('ROLLBACK TO SAVEPOINT pilotlight_transition');
      if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
      // A debounce key taken meanwhile by a producer that has now committed: seen this time, and given up.
      if (!isDebounceConflict(error)) return undefined;
      rows = (await update()).rows;
    }
    await client.query('RELEASE SAVEPOINT pilotlight_transition');
  } else {
    rows = (await update()).rows;
  }
  const row = rows[0];
  if (!row) return undefined;
  // A pinned change's job is the row as its worker read it: its queue and type never change.
  deltas.moved(isPinned(change) ? change.job : (row as JobRow), expect.state, to.name, to.at);
  if (!isPinned(change)) return toJob(row as JobRow);
  return pinnedJob(change, row.has_continuations, row.progress ?? undefined);
}

/** `pinnedResult()`, with the result a success stored (see the UPDATE: the latest success's, or none). */
export function pinnedJob(
  change: Transition & { readonly job: JobRecord },
  hasContinuations: boolean,
  progress: JobProgress | undefined,
): JobRecord {
  const job = pinnedResult(change, hasContinuations, progress);
  return change.to.name === JobStates.Succeeded ? { ...job, resultJson: change.resultJson } : job;
}

const WAITING: readonly StateName[] = [JobStates.Enqueued, JobStates.Scheduled];

/**
 * Whether a change may break a unique index, and so pays for a SAVEPOINT. Only a finished job
 * coming back (a requeue of a Deleted job, say) can enter the dedup index and collide with another
 * unfinished holder of its key (then the change does not apply); a job already unfinished is in the
 * index under the same key. Only a job coming back to a waiting state can enter the debounce index,
 * if it has a debounce key (unknown without `change.job`): a producer may have taken it meanwhile.
 */
export function mayCollide(change: Transition): boolean {
  const { expect, to } = change;
  if (FINISHED.includes(expect.state) && !FINISHED.includes(to.name)) return true;
  return WAITING.includes(to.name) && !WAITING.includes(expect.state) && (change.job === undefined || change.job.debounceKey !== undefined);
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
