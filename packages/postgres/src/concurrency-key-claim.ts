import type pg from 'pg';
import type { ClaimRequest } from 'pilotlight/store-kit';
import type { InTransaction } from './claim-sql.ts';
import { claimUnderFlowControl, type FlowControl } from './flow-claim.ts';
import { jobColumns, jobRowFromValues, type JobRow } from './rows.ts';
import { preparedArrays } from './sql-params.ts';

/**
 * The claim once the plain claim found flow control: first `claim_with_concurrency_keys()`
 * (migration 5), one statement that claims jobs with concurrency keys, and jobs without flow control
 * among them, with the same locks and counts as `claimUnderFlowControl()` but without a round trip
 * per step (a worker at concurrency 10 spent most of its time waiting on those). When that meets a
 * queue with a limit or a job with a rate limit, it returns what it claimed so far and a row of NULLs
 * (the one `isFlowControlled()` tells), and the rest is claimed by `claimUnderFlowControl()`, in a
 * transaction (`inTransaction`): the jobs the function took are committed Processing jobs by then
 * (or the caller's transaction's own), which that claim counts. The rows come in no order.
 */
export async function claimUnderConcurrencyKeys(
  db: pg.ClientBase | pg.Pool,
  s: string,
  request: ClaimRequest,
  flow: FlowControl,
  inTransaction: InTransaction,
): Promise<JobRow[]> {
  const { rows } = await db.query(
    preparedArrays(`SELECT ${jobColumns()} FROM ${s}.claim_with_concurrency_keys($1::text[], $2, $3, $4, $5, $6, $7)`, [
      request.queues,
      request.limit,
      request.now,
      request.now.getTime(),
      request.serverName,
      JSON.stringify(request.serverName),
      request.leaseUntil,
    ]),
  );
  const claimed = rows.map((values) => jobRowFromValues(values, 0));
  const rest = claimed.findIndex((row) => row.id === null);
  if (rest === -1) return claimed;
  claimed.splice(rest, 1);
  const wanted = { ...request, limit: request.limit - claimed.length };
  if (wanted.limit > 0) claimed.push(...(await inTransaction((client) => claimUnderFlowControl(client, s, wanted, flow))));
  return claimed;
}
