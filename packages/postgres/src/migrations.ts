import type pg from 'pg';
import { ErrorCodes, PilotlightError } from 'pilotlight/store-kit';
import { flowFunctionsMigration } from './flow-functions-sql.ts';

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
  /* 2: repair unreadable rows, then refuse new ones */ (s) => `
  -- Rows an older or broken writer left that no version can run: a state it does not know, metadata
  -- or retry options that are not JSON objects. Each moves to Failed with the reason naming the column
  -- (the bad value quoted in it, then cleared), so that the constraints below hold for every row.
  WITH problems AS (
    SELECT id, 'column state holds ' || left(quote_literal(state), 80) || ', not one of the 7 states (Enqueued, Scheduled, Awaiting, Processing, Succeeded, Failed, Deleted)' AS problem
      FROM ${s}.jobs WHERE state NOT IN ('Enqueued', 'Scheduled', 'Awaiting', 'Processing', 'Succeeded', 'Failed', 'Deleted')
    UNION ALL
    SELECT id, 'column metadata is not a JSON object (' || left(metadata::text, 200) || ', cleared)'
      FROM ${s}.jobs WHERE jsonb_typeof(metadata) <> 'object'
    UNION ALL
    SELECT id, 'column retry is not a JSON object (' || left(retry::text, 200) || ', cleared)'
      FROM ${s}.jobs WHERE jsonb_typeof(retry) <> 'object'
  ),
  repairs AS (
    SELECT id, 'Unreadable row: ' || string_agg(problem, '; ') || ' (found by schema migration 2)' AS reason FROM problems GROUP BY id
  )
  UPDATE ${s}.jobs AS j SET
    state = 'Failed', state_reason = r.reason, state_changed_at = now(), server_name = NULL, lease_until = NULL, expires_at = NULL,
    metadata = CASE WHEN jsonb_typeof(j.metadata) = 'object' THEN j.metadata END,
    retry = CASE WHEN jsonb_typeof(j.retry) = 'object' THEN j.retry END,
    history = j.history || ',' || jsonb_build_object('name', 'Failed', 'at', (extract(epoch FROM now()) * 1000)::bigint, 'reason', r.reason,
                                                     'error', jsonb_build_object('type', 'UnreadableRow', 'message', r.reason))::text
  FROM repairs AS r WHERE j.id = r.id;
  -- A Processing job without a lease: no worker renews it, so its lease ran out when it started;
  -- maintenance requeues it (or fails it, attempts spent) like any job whose worker died.
  UPDATE ${s}.jobs SET lease_until = state_changed_at WHERE state = 'Processing' AND lease_until IS NULL;

  ALTER TABLE ${s}.jobs
    ADD CONSTRAINT jobs_state_known CHECK (state IN ('Enqueued', 'Scheduled', 'Awaiting', 'Processing', 'Succeeded', 'Failed', 'Deleted')),
    ADD CONSTRAINT jobs_processing_leased CHECK (state <> 'Processing' OR lease_until IS NOT NULL),
    ADD CONSTRAINT jobs_metadata_object CHECK (jsonb_typeof(metadata) = 'object'),
    ADD CONSTRAINT jobs_retry_object CHECK (jsonb_typeof(retry) = 'object');
  `,
  /* 3: listing indexes, job counters, outcomes per minute */ (s) => `
  -- Newest first by state, and by state within a queue or a type: a page deep into a million jobs is
  -- a range of one of these. An UPDATE that changes the state writes an entry in every index whose
  -- predicate the new row meets, so every job's own path is kept to one of them: Enqueued and
  -- Processing (every job passes through both) are in none, and are listed through jobs_fetch and
  -- jobs_leases, which hold them alone; Succeeded (where every job ends) is in the one by state
  -- only, and a page of Succeeded jobs of one queue or type walks it.
  CREATE INDEX jobs_by_state ON ${s}.jobs (state, id) WHERE state <> 'Enqueued' AND state <> 'Processing';
  CREATE INDEX jobs_by_queue ON ${s}.jobs (queue, state, id) WHERE state <> 'Enqueued' AND state <> 'Processing' AND state <> 'Succeeded';
  CREATE INDEX jobs_by_type ON ${s}.jobs (type, state, id) WHERE state <> 'Enqueued' AND state <> 'Processing' AND state <> 'Succeeded';

  -- Jobs per queue, type and state, as Hangfire's SQL Server storage keeps its statistics (Counter
  -- and AggregatedCounter): every statement that inserts, deletes or moves jobs appends its changes
  -- to job_count_deltas, one row per key, in its own transaction; readers add the pending deltas to
  -- job_counts, and maintenance folds them in (see counters.ts). A delta of jobs that reached
  -- Succeeded or Failed carries the minute they did: folded, it also counts in job_outcomes. No
  -- index on the deltas: they are appended, read whole and emptied.
  CREATE TABLE ${s}.job_counts (
    queue TEXT NOT NULL,
    type TEXT NOT NULL,
    state TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (queue, type, state)
  );
  CREATE TABLE ${s}.job_count_deltas (
    queue TEXT NOT NULL,
    type TEXT NOT NULL,
    state TEXT NOT NULL,
    minute TIMESTAMPTZ,                   -- for jobs that reached Succeeded or Failed: the minute they did
    delta BIGINT NOT NULL
  );
  INSERT INTO ${s}.job_counts (queue, type, state, n) SELECT queue, type, state, count(*) FROM ${s}.jobs GROUP BY queue, type, state;

  -- Jobs that reached Succeeded or Failed, per minute: they outlive the jobs. Seeded from the
  -- finished jobs of the last 48 hours (those already deleted are not known).
  CREATE TABLE ${s}.job_outcomes (
    minute TIMESTAMPTZ PRIMARY KEY,
    succeeded BIGINT NOT NULL,
    failed BIGINT NOT NULL
  );
  INSERT INTO ${s}.job_outcomes (minute, succeeded, failed)
    SELECT to_timestamp(floor(extract(epoch FROM state_changed_at) / 60) * 60),
           count(*) FILTER (WHERE state = 'Succeeded'), count(*) FILTER (WHERE state = 'Failed')
    FROM ${s}.jobs WHERE state IN ('Succeeded', 'Failed') AND state_changed_at >= now() - interval '48 hours'
    GROUP BY 1;
  `,
  /* 4: flow control, batches and results */ (s) => `
  -- A job's flow control, batch and result. ADD COLUMN without a default rewrites no row: the jobs
  -- already there read NULL (none) in each.
  ALTER TABLE ${s}.jobs
    ADD COLUMN concurrency_key TEXT,
    ADD COLUMN concurrency_limit INTEGER,
    ADD COLUMN rate_limit_key TEXT,
    ADD COLUMN rate_limit_max INTEGER,
    ADD COLUMN rate_limit_per BIGINT,     -- ms
    ADD COLUMN debounce_key TEXT,
    ADD COLUMN batch_id TEXT,
    ADD COLUMN awaits_batch TEXT,         -- a batch continuation: the batch it waits for
    ADD COLUMN awaits_batch_when TEXT,    -- 'succeeded' or 'finished', with awaits_batch
    ADD COLUMN result TEXT,               -- what the handler returned, the JSON text as given (jsonb would reformat it)
    ADD CONSTRAINT jobs_awaits_batch_when CHECK (awaits_batch_when IN ('succeeded', 'finished'));

  -- Each index is partial on its column being set: a job without these options writes no entry in
  -- any of them, whatever state it moves through.
  -- The running jobs of a concurrency key, which the claim counts.
  CREATE INDEX jobs_concurrency_running ON ${s}.jobs (concurrency_key) WHERE state = 'Processing' AND concurrency_key IS NOT NULL;
  -- At most one waiting job per debounce key, whatever the number of racing producers.
  CREATE UNIQUE INDEX jobs_debounce ON ${s}.jobs (debounce_key)
    WHERE debounce_key IS NOT NULL AND state IN ('Enqueued', 'Scheduled');
  -- A batch's members by state: counted, listed, and checked for unfinished ones.
  CREATE INDEX jobs_batch ON ${s}.jobs (batch_id, state) WHERE batch_id IS NOT NULL;
  -- The continuations waiting for a batch.
  CREATE INDEX jobs_awaiting_batch ON ${s}.jobs (awaits_batch) WHERE state = 'Awaiting' AND awaits_batch IS NOT NULL;

  -- Settings obeyed by every worker; a queue without a row has none (not paused, no limit). The
  -- claim of a limited queue locks its row: claims of that queue take turns, and count its running
  -- jobs one after the other.
  CREATE TABLE ${s}.queue_settings (
    queue TEXT PRIMARY KEY,
    paused BOOLEAN NOT NULL DEFAULT false,
    concurrency_limit INTEGER,
    rate_limit_max INTEGER,
    rate_limit_per BIGINT,                -- ms, with rate_limit_max
    updated_at TIMESTAMPTZ NOT NULL
  );

  -- The current fixed window of each rate limit: opened by the first start after the previous window
  -- closed (window_start, ending at window_end), with how many starts it counted. A job's key (kind
  -- 'job') and a queue's own limit (kind 'queue', key the queue's name) never share a row.
  CREATE TABLE ${s}.rate_windows (
    kind TEXT NOT NULL CHECK (kind IN ('job', 'queue')),
    key TEXT NOT NULL,
    window_start TIMESTAMPTZ NOT NULL,
    window_end TIMESTAMPTZ NOT NULL,
    started INTEGER NOT NULL,
    PRIMARY KEY (kind, key)
  );
  `,
  /* 5: the claim under flow control's server-side functions */ flowFunctionsMigration,
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
