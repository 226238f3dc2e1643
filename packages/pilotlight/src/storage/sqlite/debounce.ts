/**
 * Debounce keys: a job created with a key replaces the job that waits (Enqueued or Scheduled) with
 * the same key, in the creating transaction. migration 4's unique partial index jobs_debounce holds
 * at most one waiting job per key; SQLite's single writer makes the replacement and the insert one
 * step for every other process.
 */

import { JobStates, type StateName } from '../../types.ts';
import type { JobCountDeltas } from '../count-deltas.ts';
import { debouncedJobExpiry, historyEntry } from '../store-helpers.ts';
import type { SqliteConnection } from './connection.ts';

/** A job a debounced job replaced: it moved from `from` to Deleted. */
export interface DebouncedJob {
  readonly id: string;
  readonly from: StateName;
}

/**
 * Moves the job waiting with `key`, if any, to Deleted in favour of job `replacedBy` (just
 * inserted, without the key yet), then gives `replacedBy` the key. Returns the job replaced.
 */
export function takeDebounceKey(
  connection: SqliteConnection,
  key: string,
  replacedBy: string,
  at: Date,
  deltas: JobCountDeltas,
): DebouncedJob | undefined {
  const holder = connection
    .statement(
      `SELECT id, queue, type, state FROM jobs WHERE debounce_key = ? AND debounce_key IS NOT NULL AND (state = 'Enqueued' OR state = 'Scheduled')`,
    )
    .get(key) as { id: number; queue: string; type: string; state: StateName } | undefined;
  if (holder) {
    const reason = `Debounced: replaced by job ${replacedBy}`;
    connection
      .statement(
        `UPDATE jobs SET state = 'Deleted', state_reason = ?, state_changed_at = ?, expires_at = ?, history = history || ? WHERE id = ?`,
      )
      .run(reason, at.getTime(), debouncedJobExpiry(at).getTime(), `,${historyEntry({ name: JobStates.Deleted, reason, at })}`, holder.id);
    deltas.moved(holder, holder.state, JobStates.Deleted, at);
  }
  connection.statement('UPDATE jobs SET debounce_key = ? WHERE id = ?').run(key, Number(replacedBy));
  return holder && { id: String(holder.id), from: holder.state };
}
