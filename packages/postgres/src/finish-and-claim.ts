import type pg from 'pg';
import { JobStates } from 'pilotlight';
import type { JobRecord } from 'pilotlight';
import type { ClaimRequest, Transition, TransitionAndClaimResult } from 'pilotlight/store-kit';
import { historyEntry, isPinned } from 'pilotlight/store-kit';
import { claimCtes, claimJobs, flowControlledRow, isFlowControlled, keepReadable, type InTransaction } from './claim-sql.ts';
import { CLAIMED_CHANGES } from './claim-update-sql.ts';
import { claimTheRest, claimUnderConcurrencyKeys, concurrencyKeyClaimCall } from './concurrency-key-claim.ts';
import type { FlowControl } from './flow-claim.ts';
import { deltaCte } from './counters.ts';
import { JOB_COLUMNS, claimOrder, jobColumns, jobRowFromValues, toRowId, type JobRow } from './rows.ts';
import { preparedArrays, SqlParams } from './sql-params.ts';
import { lockOrder, mayCollide, pinnedJob } from './job-writes.ts';

/**
 * A busy worker's batch (the attempts it just finished, the jobs that take their slots, and what
 * both change in the job counters) in one statement: one round trip, no BEGIN/COMMIT, however many
 * jobs the batch holds. A statement is atomic by itself, so this is the transaction
 * `transitionAndClaim()` promises.
 */

type PinnedTransition = Transition & { readonly job: JobRecord };

/**
 * Whether one statement can apply these changes: each one a worker recording its own attempt
 * (pinned to Processing, its attempt and its worker), none making a job Enqueued (the claim in the
 * same statement would not see it, and it would need a NOTIFY), none that may break a unique index
 * (a retry of a job with a debounce key: see `mayCollide()`), no job twice.
 */
export function isWorkerBatch(changes: readonly Transition[]): changes is readonly PinnedTransition[] {
  const ids = new Set<string>();
  for (const change of changes) {
    if (!isPinned(change) || change.expect.state !== JobStates.Processing || change.to.name === JobStates.Enqueued) return false;
    if (mayCollide(change)) return false;
    if (toRowId(change.id) === undefined || ids.has(change.id)) return false;
    ids.add(change.id);
  }
  return true;
}

/** Columns of the one result set: claimed jobs whole, finished ones by what others may have changed. */
const FINISHED_COLUMNS = new Set(['id', 'has_continuations', 'progress']);

/**
 * The batch in one statement; while claims of these queues met flow control lately (`flow.recent`),
 * its claim is `claim_with_concurrency_keys()`, called by the same statement (one commit, as for
 * jobs without flow control, rather than the batch's and then the claim's: a commit is flushed to
 * disk, and costs more than either statement).
 */
export async function finishAndClaim(
  db: pg.Pool,
  s: string,
  changes: readonly PinnedTransition[],
  claim: ClaimRequest | undefined,
  flow: FlowControl,
  inTransaction: InTransaction,
): Promise<TransitionAndClaimResult> {
  const how = claim === undefined ? 'none' : flow.recent.expected(claim.queues) ? 'keys' : 'plain';
  const { finished, claimedRows } = await runBatch(db, s, changes, claim, how);
  let claimed = claimedRows;
  if (claim && how === 'keys') claimed = await claimTheRest(claimedRows, s, claim, flow, inTransaction);
  // The plain claim found flow control and took nothing: it claims under flow control, once the
  // finished attempts are committed (they only free keys and slots, which it then counts).
  else if (claim && claimedRows.some(isFlowControlled)) {
    flow.recent.found(claim.queues);
    claimed = await claimUnderConcurrencyKeys(db, s, claim, flow, inTransaction);
  }
  return resultOf(db, s, changes, finished, claim, claimed, flow, inTransaction);
}

/**
 * The batch's statement: the finished attempts (by id) and the claimed rows, claimed by the plain
 * claim (with `flowControlledRow()`'s row when it found flow control), by the function (`keys`,
 * with its row of NULLs when it left the rest), or none.
 */
async function runBatch(
  db: pg.Pool | pg.ClientBase,
  s: string,
  changes: readonly PinnedTransition[],
  claim: ClaimRequest | undefined,
  how: 'none' | 'plain' | 'keys',
): Promise<{ finished: Map<string, JobRow>; claimedRows: JobRow[] }> {
  const p = new SqlParams();
  // In ascending id order, the order every batch locks rows in (see lockOrder()), as far as the plan
  // follows it; a deadlock this leaves possible is retried by the store.
  const ordered = lockOrder(changes).map((i) => changes[i]!);
  // Times travel as epoch milliseconds: cheaper to send than dates, which pg formats one by one.
  const column = <T>(pick: (change: PinnedTransition) => T, type: string) => p.add(ordered.map(pick), `${type}[]`);
  const ids = column((c) => c.id, 'bigint');
  const change = `unnest(
         ${ids}, ${column((c) => c.to.name, 'text')}, ${column((c) => c.to.reason ?? null, 'text')},
         ${column((c) => c.to.at.getTime(), 'float8')}, ${column((c) => c.runAt?.getTime() ?? null, 'float8')},
         ${column((c) => c.retryCount ?? null, 'integer')}, ${column((c) => c.attempt ?? null, 'integer')},
         ${column((c) => c.expiresAt?.getTime() ?? null, 'float8')}, ${column((c) => c.expect.state, 'text')},
         ${column((c) => c.expect.attempt, 'integer')}, ${column((c) => c.expect.serverName, 'text')},
         ${column((c) => historyEntry(c.to), 'text')}, ${column((c) => c.resultJson ?? null, 'text')}
       ) AS c(id, state, reason, at, run_at, retry_count, attempt, expires_at, expect_state, expect_attempt, expect_server, entry, result)`;
  const plain = claim && how === 'plain';
  const claimedCtes = plain ? `, ${claimCtes(s, claim, p)}` : '';
  // The function does not count the attempts this statement finishes (see flow-functions-sql.ts).
  const finishing = () => ({
    ids,
    attempts: column((c) => c.expect.attempt, 'integer'),
    servers: column((c) => c.expect.serverName, 'text'),
  });
  const claimedSelect = !claim
    ? ''
    : plain
      ? `SELECT false AS finished, ${JOB_COLUMNS.join(', ')} FROM claimed UNION ALL ${flowControlledRow('false, ')} UNION ALL `
      : `SELECT false AS finished, ${jobColumns()} FROM ${concurrencyKeyClaimCall(s, claim, p, finishing())} UNION ALL `;
  const { rows } = await db.query(
    preparedArrays(
      `WITH finished AS (
       UPDATE ${s}.jobs AS j
       SET state = c.state, state_reason = c.reason, state_changed_at = to_timestamp(c.at / 1000),
           run_at = coalesce(to_timestamp(c.run_at / 1000), j.run_at), retry_count = coalesce(c.retry_count, j.retry_count),
           attempt = coalesce(c.attempt, j.attempt), expires_at = to_timestamp(c.expires_at / 1000),
           server_name = NULL, lease_until = NULL, history = j.history || ',' || c.entry,
           result = CASE WHEN c.state = 'Succeeded' THEN c.result ELSE j.result END
       FROM ${change}
       -- The expected state comes with each change (always 'Processing'), not as a constant: a constant
       -- would let the planner read the Processing jobs through jobs_leases, whose dead entries (every
       -- job finished since the last VACUUM) it would walk each time. By id, it reads just these rows.
       WHERE j.id = c.id AND j.state = c.expect_state AND j.attempt = c.expect_attempt AND j.server_name = c.expect_server
       RETURNING j.id, j.has_continuations, j.progress, j.queue, j.type, c.state AS to_state, c.expect_state, c.at
     )${claimedCtes},
     ${deltaCte(
       s,
       `SELECT queue, type, to_state AS state,
               CASE WHEN (to_state = 'Succeeded' OR to_state = 'Failed') AND to_state <> expect_state
                    THEN to_timestamp(floor(at / 60000) * 60) END AS minute,
               1 AS delta
        FROM finished
        UNION ALL SELECT queue, type, expect_state, NULL, -1 FROM finished${plain ? `\n        UNION ALL ${CLAIMED_CHANGES}` : ''}`,
     )}
     ${claimedSelect}
     SELECT true AS finished, ${JOB_COLUMNS.map((name) => (FINISHED_COLUMNS.has(name) ? name : 'NULL')).join(', ')} FROM finished`,
      p.values,
    ),
  );
  const finished = new Map<string, JobRow>();
  const claimedRows: JobRow[] = [];
  for (const values of rows) {
    const row = jobRowFromValues(values, 1); // values[0]: finished
    if (values[0]) finished.set(row.id, row);
    else claimedRows.push(row);
  }
  return { finished, claimedRows };
}

/** The result of the batch: its finished attempts as jobs, and the claimed ones that can be read. */
async function resultOf(
  db: pg.Pool | pg.ClientBase,
  s: string,
  changes: readonly PinnedTransition[],
  finished: ReadonlyMap<string, JobRow>,
  claim: ClaimRequest | undefined,
  claimedRows: readonly JobRow[],
  flow: FlowControl,
  inTransaction: InTransaction,
): Promise<TransitionAndClaimResult> {
  const claimedJobs = claim ? await keepReadable(db, s, claim, claimedRows) : [];
  // Bad rows took places: claim the jobs behind them.
  if (claim && claimedJobs.length < claimedRows.length && claimedRows.length === claim.limit) {
    claimedJobs.push(...(await claimJobs(db, s, { ...claim, limit: claim.limit - claimedJobs.length }, flow, inTransaction)));
  }
  return {
    transitioned: changes.map((c) => {
      const row = finished.get(toRowId(c.id)!);
      return row && pinnedJob(c, row.has_continuations, row.progress ?? undefined);
    }),
    claimed: claimedJobs.sort(claimOrder),
  };
}
