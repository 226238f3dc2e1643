import type pg from 'pg';
import { ErrorCodes, PilotlightError } from 'pilotlight/store-kit';

/**
 * Versioned schema of the PostgreSQL store. Each entry is a function of the quoted schema name
 * and runs once, in order, inside the migration transaction (which holds an advisory lock, so
 * several processes starting at once apply each migration once). Never edit a shipped migration:
 * append a new one.
 */
export const POSTGRES_MIGRATIONS: readonly ((schema: string) => string)[] = [
  /* 1: initial schema */ (s) => `
  CREATE TABLE ${s}.jobs (
    -- An identity never hands out a deleted job's id again: ids end up in traces and logs.
    -- BIGINT: returned to JavaScript as a decimal string, never rounded.
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    type TEXT NOT NULL,
    method TEXT NOT NULL,
    args TEXT NOT NULL,                   -- the caller's JSON, byte for byte (jsonb would reformat it)
    queue TEXT NOT NULL,
    priority INTEGER NOT NULL,
    state TEXT NOT NULL,
    state_reason TEXT,
    run_at TIMESTAMPTZ NOT NULL,          -- when the job is (or was) due
    created_at TIMESTAMPTZ NOT NULL,
    state_changed_at TIMESTAMPTZ NOT NULL,
    attempt INTEGER NOT NULL DEFAULT 0,
    retry_count INTEGER NOT NULL DEFAULT 0,
    retry JSONB,                          -- RetryOptions, NULL for worker defaults
    parent_id BIGINT,
    has_continuations BOOLEAN NOT NULL DEFAULT false,
    dedup_key TEXT,
    metadata JSONB,                       -- written once at creation
    server_name TEXT,                     -- while Processing
    lease_until TIMESTAMPTZ,              -- while Processing
    progress JSONB,
    recurring_id TEXT,
    expires_at TIMESTAMPTZ,               -- finished jobs are deleted after this
    -- State history: comma-separated JSON entries ('{…},{…}'), appended with || by the statement
    -- that changes the state. TEXT rather than a jsonb array: appending never parses or rebuilds
    -- the entries already there, and only getHistory() reads them.
    history TEXT NOT NULL
  );

  -- Few indexes, all partial: each one costs every write. The claim reads jobs_fetch in order, so
  -- claiming stays fast however many finished jobs the table holds.
  CREATE INDEX jobs_fetch ON ${s}.jobs (queue, priority DESC, run_at, id) WHERE state = 'Enqueued';
  CREATE INDEX jobs_scheduled ON ${s}.jobs (run_at) WHERE state = 'Scheduled';
  CREATE INDEX jobs_leases ON ${s}.jobs (lease_until) WHERE state = 'Processing';
  CREATE INDEX jobs_awaiting ON ${s}.jobs (parent_id) WHERE state = 'Awaiting';
  CREATE INDEX jobs_expiry ON ${s}.jobs (expires_at) WHERE expires_at IS NOT NULL;
  -- At most one unfinished job per dedup key; createJobs() names it in ON CONFLICT.
  CREATE UNIQUE INDEX jobs_dedup ON ${s}.jobs (dedup_key)
    WHERE dedup_key IS NOT NULL AND state NOT IN ('Succeeded', 'Failed', 'Deleted');

  CREATE TABLE ${s}.recurring_jobs (
    id TEXT PRIMARY KEY,
    cron TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    misfire TEXT NOT NULL,
    type TEXT NOT NULL,
    method TEXT NOT NULL,
    args TEXT NOT NULL,
    queue TEXT NOT NULL,
    priority INTEGER NOT NULL,
    retry JSONB,
    next_run_at TIMESTAMPTZ NOT NULL,
    last_run_at TIMESTAMPTZ,
    last_job_id BIGINT,
    created_at TIMESTAMPTZ NOT NULL
  );
  CREATE INDEX recurring_due ON ${s}.recurring_jobs (next_run_at);

  CREATE TABLE ${s}.servers (
    name TEXT PRIMARY KEY,
    queues JSONB NOT NULL,
    concurrency INTEGER NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    heartbeat_at TIMESTAMPTZ NOT NULL
  );
  `,
];

/**
 * First half of the advisory lock held by the migration transaction ('pilo' in ASCII); the second
 * half is `hashtext(schema)`. Every process of every version of Pilotlight migrating one schema
 * agrees on the pair, and stores in other schemas of the same database never wait for each other.
 */
const MIGRATION_LOCK_CLASS = 0x70696c6f;

/**
 * Brings `schema` (quoted: `s`) to the latest version, inside the caller's transaction. Safe when
 * several processes start at once: they queue on the advisory lock, and each migration runs once.
 */
export async function migrate(client: pg.ClientBase, schema: string, s: string): Promise<void> {
  // Taken before anything else, so that concurrent first starts never race on CREATE SCHEMA
  // (IF NOT EXISTS is not safe against a concurrent creation). Released at commit.
  // A migration (or waiting for another process's) may take longer than statementTimeout,
  // which is meant for the hot path: lift it for this transaction only.
  await client.query('SET LOCAL statement_timeout = 0');
  await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [MIGRATION_LOCK_CLASS, schema]);
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
  await client.query(
    `CREATE TABLE IF NOT EXISTS ${s}.migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
  );
  const { rows } = await client.query<{ version: number }>(`SELECT coalesce(max(version), 0) AS version FROM ${s}.migrations`);
  const version = rows[0]!.version;
  if (version > POSTGRES_MIGRATIONS.length) {
    throw new PilotlightError(
      ErrorCodes.SCHEMA_TOO_NEW,
      `Schema ${schema} has version ${version}, newer than this Pilotlight knows (${POSTGRES_MIGRATIONS.length}): upgrade @pilotlight/postgres to the version that wrote it, or later`,
    );
  }
  for (let next = version + 1; next <= POSTGRES_MIGRATIONS.length; next++) {
    await client.query(POSTGRES_MIGRATIONS[next - 1]!(s));
    await client.query(`INSERT INTO ${s}.migrations (version) VALUES ($1)`, [next]);
  }
}
