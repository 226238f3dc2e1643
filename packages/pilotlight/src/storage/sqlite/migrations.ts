import { ErrorCodes, PilotlightError } from '../../errors.ts';
import type { SqliteConnection } from './connection.ts';

/**
 * Versioned schema of the embedded SQLite store. Each entry runs once, in order, inside the
 * migration transaction; a database at a higher version than this code knows is refused.
 * Never edit a shipped migration: append a new one.
 */
export const SQLITE_MIGRATIONS: readonly string[] = [
  /* 1: initial schema */ `
  CREATE TABLE jobs (
    -- AUTOINCREMENT so the id of a deleted job is never handed out again: ids end up in traces and logs.
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,
    method TEXT NOT NULL,
    args TEXT NOT NULL,
    queue TEXT NOT NULL,
    priority INTEGER NOT NULL,
    state TEXT NOT NULL,
    state_reason TEXT,
    run_at INTEGER NOT NULL,              -- epoch ms: when the job is (or was) due
    created_at INTEGER NOT NULL,
    state_changed_at INTEGER NOT NULL,
    attempt INTEGER NOT NULL DEFAULT 0,
    retry_count INTEGER NOT NULL DEFAULT 0,
    retry TEXT,                           -- JSON RetryOptions, NULL for worker defaults
    parent_id INTEGER,
    has_continuations INTEGER NOT NULL DEFAULT 0,
    dedup_key TEXT,
    metadata TEXT,                        -- JSON, written once at creation
    server_name TEXT,                     -- while Processing
    lease_until INTEGER,                  -- while Processing
    progress TEXT,
    recurring_id TEXT,
    expires_at INTEGER,                   -- finished jobs are deleted after this
    history TEXT NOT NULL                 -- state history: comma-separated JSON entries, appended to
  );

  -- Few indexes, all partial: each one costs every write. The claim reads jobs_fetch in order, so claiming
  -- stays fast however many finished jobs the table holds. Heartbeats find a worker's jobs through
  -- jobs_leases; listing and counting jobs by state scan the table (dashboards, not the hot path).
  CREATE INDEX jobs_fetch ON jobs (queue, priority DESC, run_at, id) WHERE state = 'Enqueued';
  CREATE INDEX jobs_scheduled ON jobs (run_at) WHERE state = 'Scheduled';
  CREATE INDEX jobs_leases ON jobs (lease_until) WHERE state = 'Processing';
  CREATE INDEX jobs_awaiting ON jobs (parent_id) WHERE state = 'Awaiting';
  CREATE INDEX jobs_expiry ON jobs (expires_at) WHERE expires_at IS NOT NULL;
  -- At most one unfinished job per dedup key.
  CREATE UNIQUE INDEX jobs_dedup ON jobs (dedup_key)
    WHERE dedup_key IS NOT NULL AND state NOT IN ('Succeeded', 'Failed', 'Deleted');


  CREATE TABLE recurring_jobs (
    id TEXT PRIMARY KEY,
    cron TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    misfire TEXT NOT NULL,
    type TEXT NOT NULL,
    method TEXT NOT NULL,
    args TEXT NOT NULL,
    queue TEXT NOT NULL,
    priority INTEGER NOT NULL,
    retry TEXT,
    next_run_at INTEGER NOT NULL,
    last_run_at INTEGER,
    last_job_id INTEGER,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX recurring_due ON recurring_jobs (next_run_at);

  CREATE TABLE servers (
    name TEXT PRIMARY KEY,
    queues TEXT NOT NULL,
    concurrency INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL
  );
  `,
];

/** Brings the database to the latest version in one transaction; refuses a database written by a newer Pilotlight. */
export function migrate(connection: SqliteConnection, path: string): void {
  connection.transaction(() => {
    connection.exec('CREATE TABLE IF NOT EXISTS pilotlight_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    const { version } = connection.statement('SELECT coalesce(max(version), 0) AS version FROM pilotlight_migrations').get() as {
      version: number;
    };
    if (version > SQLITE_MIGRATIONS.length) {
      throw new PilotlightError(
        ErrorCodes.SCHEMA_TOO_NEW,
        `${path} has schema version ${version}, newer than this Pilotlight knows (${SQLITE_MIGRATIONS.length}): upgrade Pilotlight to the version that wrote it, or later`,
      );
    }
    for (let next = version + 1; next <= SQLITE_MIGRATIONS.length; next++) {
      connection.exec(SQLITE_MIGRATIONS[next - 1]!);
      connection.statement('INSERT INTO pilotlight_migrations (version, applied_at) VALUES (?, ?)').run(next, Date.now());
    }
  });
}
