/**
 * The SQLite store's queue settings (migration 4's `queue_settings`): paused, a concurrency limit
 * and a rate limit per queue, written by `setQueueSettings()` and read by every claim inside its
 * own transaction, so that a change made by any process holds from the next claim on.
 */

import type { QueueSettings, QueueSettingsChange } from '../store.ts';
import type { SqliteConnection } from './connection.ts';
import { sqlForList } from './sql-text.ts';

interface QueueSettingsRow {
  queue: string;
  paused: number;
  concurrency_limit: number | null;
  rate_limit_max: number | null;
  rate_limit_per: number | null;
  updated_at: number;
}

const COLUMNS = 'queue, paused, concurrency_limit, rate_limit_max, rate_limit_per, updated_at';

function toSettings(row: QueueSettingsRow): QueueSettings {
  return {
    queue: row.queue,
    paused: row.paused === 1,
    concurrencyLimit: row.concurrency_limit ?? undefined,
    rateLimit:
      row.rate_limit_max === null || row.rate_limit_per === null ? undefined : { max: row.rate_limit_max, per: row.rate_limit_per },
    updatedAt: new Date(row.updated_at),
  };
}

export function listQueueSettings(connection: SqliteConnection): QueueSettings[] {
  return (connection.statement(`SELECT ${COLUMNS} FROM queue_settings ORDER BY queue`).all() as unknown as QueueSettingsRow[]).map(
    toSettings,
  );
}

/** The settings after `change`, and whether they may let workers claim more than before (resumed, a limit raised or cleared). */
export function setQueueSettings(
  connection: SqliteConnection,
  queue: string,
  change: QueueSettingsChange,
  now: Date,
): { settings: QueueSettings; freed: boolean } {
  const row = connection.statement(`SELECT ${COLUMNS} FROM queue_settings WHERE queue = ?`).get(queue) as QueueSettingsRow | undefined;
  const before = row ? toSettings(row) : undefined;
  const settings: QueueSettings = {
    queue,
    paused: change.paused ?? before?.paused ?? false,
    concurrencyLimit: change.concurrencyLimit === undefined ? before?.concurrencyLimit : (change.concurrencyLimit ?? undefined),
    rateLimit: change.rateLimit === undefined ? before?.rateLimit : (change.rateLimit ?? undefined),
    updatedAt: now,
  };
  connection
    .statement(
      `INSERT INTO queue_settings (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (queue) DO UPDATE SET paused = excluded.paused, concurrency_limit = excluded.concurrency_limit,
         rate_limit_max = excluded.rate_limit_max, rate_limit_per = excluded.rate_limit_per, updated_at = excluded.updated_at`,
    )
    .run(
      queue,
      settings.paused ? 1 : 0,
      settings.concurrencyLimit ?? null,
      settings.rateLimit?.max ?? null,
      settings.rateLimit?.per ?? null,
      now.getTime(),
    );
  return { settings, freed: before !== undefined && frees(before, settings) };
}

/** Whether going from `before` to `after` may make jobs claimable that were not. */
function frees(before: QueueSettings, after: QueueSettings): boolean {
  if (before.paused && !after.paused) return true;
  if (before.concurrencyLimit !== undefined && (after.concurrencyLimit ?? Infinity) > before.concurrencyLimit) return true;
  if (before.rateLimit === undefined) return false;
  if (after.rateLimit === undefined) return true;
  // More starts, or a shorter window (the next one opens sooner).
  return after.rateLimit.max > before.rateLimit.max || after.rateLimit.per < before.rateLimit.per;
}

/** What a claim obeys of a queue's settings. */
export interface QueueLimits {
  readonly paused: boolean;
  readonly concurrencyLimit: number | undefined;
  readonly rateLimit: { readonly max: number; readonly per: number } | undefined;
}

/**
 * The settings in effect of those of `queues` that have some (paused, or a limit), read inside the
 * claim's transaction: on an empty or settings-free table, one probe of its primary key per queue.
 */
export function readQueueLimits(connection: SqliteConnection, queues: readonly string[]): Map<string, QueueLimits> {
  const rows = connection.statement(queueLimitsSql(queues.length)).all(...queues) as unknown as QueueSettingsRow[];
  const limits = new Map<string, QueueLimits>();
  for (const row of rows) limits.set(row.queue, toSettings(row));
  return limits;
}

const queueLimitsSql = sqlForList(
  (queues) => `SELECT ${COLUMNS} FROM queue_settings WHERE queue IN (${queues})
         AND (paused = 1 OR concurrency_limit IS NOT NULL OR rate_limit_max IS NOT NULL)`,
);
