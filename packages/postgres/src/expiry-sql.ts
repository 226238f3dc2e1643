import type pg from 'pg';
import { deltaCte } from './counters.ts';

/**
 * Deletes at most `limit` finished jobs whose retention ran out, and counts them out, in one
 * statement. Returns how many. SKIP LOCKED: two workers' maintenance delete different batches
 * instead of waiting on each other.
 */
export async function deleteExpiredJobs(db: pg.Pool, s: string, now: Date, limit: number): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    `WITH deleted AS (
       DELETE FROM ${s}.jobs WHERE id IN (
         SELECT id FROM ${s}.jobs WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED
       )
       RETURNING queue, type, state
     ),
     ${deltaCte(s, 'SELECT queue, type, state, NULL::timestamptz AS minute, -1 AS delta FROM deleted')}
     SELECT count(*) AS n FROM deleted`,
    [now, limit],
  );
  return Number(rows[0]!.n);
}
