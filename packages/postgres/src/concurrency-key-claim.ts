import type pg from 'pg';
import type { ClaimRequest } from 'pilotlight/store-kit';
import type { InTransaction } from './claim-sql.ts';
import { claimUnderFlowControl, type FlowControl } from './flow-claim.ts';
import { jobColumns, jobRowFromValues, type JobRow } from './rows.ts';
import { preparedArrays, SqlParams } from './sql-params.ts';

/**
 * The claim once the plain claim found flow control: `claim_with_concurrency_keys()` (migration 5),
 * one statement that claims jobs with concurrency keys, and jobs without flow control among them,
 * with the same locks and counts as `claimUnderFlowControl()` but without a round trip per step (a
 * worker at concurrency 10 spent most of its time waiting on those). When that meets a queue with a
 * limit or a job with a rate limit, it returns what it claimed so far and a row of NULLs (the one
 * `isFlowControlled()` tells), and `claimTheRest()` claims the rest through `claimUnderFlowControl()`.
 */

/** The attempts the statement calling the function finishes (placeholders of bigint[], integer[], text[]). */
export interface Finishing {
  readonly ids: string;
  readonly attempts: string;
  readonly servers: string;
}

/** The function's call, a FROM item returning job rows, its values added to `p`. */
export function concurrencyKeyClaimCall(s: string, request: ClaimRequest, p: SqlParams, finishing?: Finishing): string {
  const args = [
    p.add(request.queues, 'text[]'),
    p.add(request.limit, 'integer'),
    p.add(request.now, 'timestamptz'),
    p.add(request.now.getTime(), 'bigint'),
    p.add(request.serverName, 'text'),
    p.add(JSON.stringify(request.serverName), 'text'),
    p.add(request.leaseUntil, 'timestamptz'),
    finishing?.ids ?? `'{}'::bigint[]`,
    finishing?.attempts ?? `'{}'::integer[]`,
    finishing?.servers ?? `'{}'::text[]`,
  ];
  return `${s}.claim_with_concurrency_keys(${args.join(', ')})`;
}

/** The claim through the function on its own; the rows in no order. */
export async function claimUnderConcurrencyKeys(
  db: pg.ClientBase | pg.Pool,
  s: string,
  request: ClaimRequest,
  flow: FlowControl,
  inTransaction: InTransaction,
): Promise<JobRow[]> {
  const p = new SqlParams();
  const { rows } = await db.query(preparedArrays(`SELECT ${jobColumns()} FROM ${concurrencyKeyClaimCall(s, request, p)}`, p.values));
  return claimTheRest(
    rows.map((values) => jobRowFromValues(values, 0)),
    s,
    request,
    flow,
    inTransaction,
  );
}

/**
 * The rows the function returned, without its row of NULLs if it left the rest to the claim in
 * TypeScript, and that claim's jobs, in a transaction (`inTransaction`): by then the jobs the
 * function took are committed Processing jobs (or the caller's transaction's own), which it counts.
 */
export async function claimTheRest(
  claimed: JobRow[],
  s: string,
  request: ClaimRequest,
  flow: FlowControl,
  inTransaction: InTransaction,
): Promise<JobRow[]> {
  const rest = claimed.findIndex((row) => row.id === null);
  if (rest === -1) return claimed;
  claimed.splice(rest, 1);
  const wanted = { ...request, limit: request.limit - claimed.length };
  if (wanted.limit > 0) claimed.push(...(await inTransaction((client) => claimUnderFlowControl(client, s, wanted, flow))));
  return claimed;
}
