import type pg from 'pg';
import type { QueueSettings, QueueSettingsChange } from 'pilotlight/store-kit';

/**
 * Queue settings (migration 4): paused, a concurrency limit, a rate limit, one row per queue that
 * has been given any. Written by `setQueueSettings()`, read by every claim of its queue.
 */

interface QueueSettingsRow {
  queue: string;
  paused: boolean;
  concurrency_limit: number | null;
  rate_limit_max: number | null;
  rate_limit_per: number | null;
  updated_at: Date;
}

/** rate_limit_per is a BIGINT (pg returns a string): selected as float8. */
const COLUMNS = 'queue, paused, concurrency_limit, rate_limit_max, rate_limit_per::float8 AS rate_limit_per, updated_at';

export function toQueueSettings(row: QueueSettingsRow): QueueSettings {
  return {
    queue: row.queue,
    paused: row.paused,
    concurrencyLimit: row.concurrency_limit ?? undefined,
    rateLimit:
      row.rate_limit_max === null || row.rate_limit_per === null ? undefined : { max: row.rate_limit_max, per: row.rate_limit_per },
    updatedAt: row.updated_at,
  };
}

export async function listQueueSettings(db: pg.Pool, s: string): Promise<QueueSettings[]> {
  const { rows } = await db.query<QueueSettingsRow>(`SELECT ${COLUMNS} FROM ${s}.queue_settings ORDER BY queue`);
  return rows.map(toQueueSettings);
}

/**
 * Applies `change` to the queue's row (created with no settings if missing), inside the caller's
 * transaction; returns the settings before (undefined: none) and after. The row lock the UPDATE
 * takes waits for claims of the queue under way, so the claims after it obey the new settings.
 */
export async function writeQueueSettings(
  client: pg.ClientBase,
  s: string,
  queue: string,
  change: QueueSettingsChange,
): Promise<{ before: QueueSettings | undefined; after: QueueSettings }> {
  // The row as it is, locked: the settings this change replaces, which say whether it frees jobs.
  const before = await client.query<QueueSettingsRow>(`SELECT ${COLUMNS} FROM ${s}.queue_settings WHERE queue = $1 FOR UPDATE`, [queue]);
  const keepRate = change.rateLimit === undefined;
  const { rows } = await client.query<QueueSettingsRow>(
    // Absent fields are kept ($n IS NULL with its keep flag), null clears a limit.
    `INSERT INTO ${s}.queue_settings AS qs (queue, paused, concurrency_limit, rate_limit_max, rate_limit_per, updated_at)
     VALUES ($1, coalesce($2, false), $4, $6, $7, now())
     ON CONFLICT (queue) DO UPDATE SET
       paused = coalesce($2, qs.paused),
       concurrency_limit = CASE WHEN $3 THEN qs.concurrency_limit ELSE $4 END,
       rate_limit_max = CASE WHEN $5 THEN qs.rate_limit_max ELSE $6 END,
       rate_limit_per = CASE WHEN $5 THEN qs.rate_limit_per ELSE $7 END,
       -- Never before the previous change, whatever the clocks of the server's sessions say.
       updated_at = greatest(now(), qs.updated_at)
     RETURNING ${COLUMNS}`,
    [
      queue,
      change.paused ?? null,
      change.concurrencyLimit === undefined,
      change.concurrencyLimit ?? null,
      keepRate,
      change.rateLimit?.max ?? null,
      change.rateLimit?.per ?? null,
    ],
  );
  return { before: before.rows[0] && toQueueSettings(before.rows[0]), after: toQueueSettings(rows[0]!) };
}

/**
 * Whether going from `before` to `after` may let jobs start that could not: the queue resumed, or
 * a limit raised or cleared. Then workers are woken; a stricter change needs no one to look.
 */
export function freesJobs(before: QueueSettings | undefined, after: QueueSettings): boolean {
  if (!before) return false;
  if (before.paused && !after.paused) return true;
  if (before.concurrencyLimit !== undefined && (after.concurrencyLimit === undefined || after.concurrencyLimit > before.concurrencyLimit)) {
    return true;
  }
  const was = before.rateLimit;
  const now = after.rateLimit;
  return was !== undefined && (now === undefined || now.max > was.max || now.per < was.per);
}

/** A queue's limits as one claim obeys them. */
export interface QueueLimits {
  readonly paused: boolean;
  readonly concurrencyLimit: number | undefined;
  readonly rateLimit: { readonly max: number; readonly per: number } | undefined;
}

/**
 * The settings of the claimed queues, for a claim under flow control, in its transaction. The rows
 * of queues with a limit are locked (FOR NO KEY UPDATE, in queue order, so that two claims never
 * wait for each other in a circle): claims of a limited queue take turns, each counting the running
 * jobs and the window the previous one committed. A paused queue without a limit is only read: no
 * job of it is claimed, nothing to count.
 */
export async function lockQueueLimits(client: pg.ClientBase, s: string, queues: readonly string[]): Promise<Map<string, QueueLimits>> {
  const { rows } = await client.query<QueueSettingsRow>(
    `WITH limited AS (
       SELECT ${COLUMNS} FROM ${s}.queue_settings
       WHERE queue = ANY($1) AND (concurrency_limit IS NOT NULL OR rate_limit_max IS NOT NULL)
       ORDER BY queue FOR NO KEY UPDATE
     )
     SELECT * FROM limited
     UNION ALL
     SELECT ${COLUMNS} FROM ${s}.queue_settings
     WHERE queue = ANY($1) AND concurrency_limit IS NULL AND rate_limit_max IS NULL AND paused AND queue NOT IN (SELECT queue FROM limited)`,
    [queues],
  );
  return new Map(rows.map((row) => [row.queue, toQueueSettings(row)]));
}
