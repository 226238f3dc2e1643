/** Maintenance's cleanup pass: finished jobs past their retention, folded outcomes, closed rate-limit windows. */

import type { JobCountDeltas } from '../count-deltas.ts';
import { isStateName } from '../unreadable-rows.ts';
import type { SqliteConnection } from './connection.ts';
import { foldOutcomes } from './counters.ts';
import { deleteClosedRateWindows } from './rate-windows.ts';

/** Inside the caller's write transaction: deletes at most `limit` expired jobs, counted out in `deltas`; returns how many. */
export function deleteExpiredJobs(connection: SqliteConnection, now: Date, limit: number, deltas: JobCountDeltas): number {
  const deleted = connection
    .statement(
      'DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE expires_at <= ? ORDER BY expires_at LIMIT ?) RETURNING queue, type, state',
    )
    .all(now.getTime(), limit) as { queue: string; type: string; state: string }[];
  for (const { queue, type, state } of deleted) if (isStateName(state)) deltas.add(queue, type, state, -1);
  // Maintenance calls this on every pass: where the outcomes are folded in, and kept as long as the dashboard shows them.
  foldOutcomes(connection, now);
  deleteClosedRateWindows(connection, now);
  return deleted.length;
}
