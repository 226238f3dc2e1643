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
  /* 2: repair unreadable rows, then refuse new ones */ `
  -- Rows an older or broken writer left that no version can run: a state it does not know, a due time
  -- that is not an integer (text sorts above every number: never due), metadata or retry options that
  -- are not JSON objects. Each moves to Failed with the reason naming the column (the bad value quoted
  -- in it, then cleared), so that the checks below hold for every row.
  CREATE TEMP TABLE pilotlight_repairs (id INTEGER PRIMARY KEY, reason TEXT NOT NULL);
  INSERT INTO pilotlight_repairs (id, reason)
    SELECT id, 'Unreadable row: ' || group_concat(problem, '; ') || ' (found by schema migration 2)' FROM (
      SELECT id, 'column state holds ' || substr(quote(state), 1, 80) || ', not one of the 7 states (Enqueued, Scheduled, Awaiting, Processing, Succeeded, Failed, Deleted)' AS problem
        FROM jobs WHERE state NOT IN ('Enqueued', 'Scheduled', 'Awaiting', 'Processing', 'Succeeded', 'Failed', 'Deleted')
      UNION ALL
      SELECT id, 'column run_at is not a time in epoch milliseconds (' || substr(quote(run_at), 1, 80) || ')'
        FROM jobs WHERE typeof(run_at) <> 'integer'
      UNION ALL
      SELECT id, 'column metadata is not a JSON object (' || substr(quote(metadata), 1, 200) || ', cleared)'
        FROM jobs WHERE metadata IS NOT NULL AND coalesce(CASE WHEN json_valid(metadata) THEN json_type(metadata) END, '') <> 'object'
      UNION ALL
      SELECT id, 'column retry is not a JSON object (' || substr(quote(retry), 1, 200) || ', cleared)'
        FROM jobs WHERE retry IS NOT NULL AND coalesce(CASE WHEN json_valid(retry) THEN json_type(retry) END, '') <> 'object'
    ) GROUP BY id;
  UPDATE jobs SET
      state = 'Failed', state_reason = r.reason, server_name = NULL, lease_until = NULL, expires_at = NULL,
      state_changed_at = CAST(unixepoch('subsec') * 1000 AS INTEGER),
      run_at = CASE WHEN typeof(jobs.run_at) = 'integer' THEN jobs.run_at ELSE CAST(unixepoch('subsec') * 1000 AS INTEGER) END,
      metadata = CASE WHEN CASE WHEN json_valid(jobs.metadata) THEN json_type(jobs.metadata) END = 'object' THEN jobs.metadata END,
      retry = CASE WHEN CASE WHEN json_valid(jobs.retry) THEN json_type(jobs.retry) END = 'object' THEN jobs.retry END,
      history = jobs.history || ',' || json_object('name', 'Failed', 'at', CAST(unixepoch('subsec') * 1000 AS INTEGER), 'reason', r.reason,
                                                   'error', json_object('type', 'UnreadableRow', 'message', r.reason))
    FROM pilotlight_repairs AS r WHERE jobs.id = r.id;
  DROP TABLE pilotlight_repairs;
  -- A Processing job without a lease: no worker renews it, so its lease ran out when it started;
  -- maintenance requeues it (or fails it, attempts spent) like any job whose worker died.
  UPDATE jobs SET lease_until = CASE WHEN typeof(state_changed_at) = 'integer' THEN state_changed_at ELSE 0 END
    WHERE state = 'Processing' AND lease_until IS NULL;

  -- The checks, as CHECK constraints, each named for what it requires (SQLite's error names it:
  -- "CHECK constraint failed: state_is_one_of_the_7_states"). SQLite adds a CHECK only by rebuilding
  -- the table: this copies every row once, inside this migration's transaction. Triggers would avoid
  -- the copy but run a sub-program on every claim and every state change (about 9 µs a job); a
  -- CHECK is evaluated inline, and on UPDATE only when a column it reads is set.
  CREATE TABLE jobs_checked (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,
    method TEXT NOT NULL,
    args TEXT NOT NULL,
    queue TEXT NOT NULL,
    priority INTEGER NOT NULL,
    state TEXT NOT NULL
      -- OR, not IN: a CHECK with IN (list) builds a lookup table each time a statement runs.
      CONSTRAINT state_is_one_of_the_7_states CHECK (
        state = 'Enqueued' OR state = 'Scheduled' OR state = 'Awaiting' OR state = 'Processing'
        OR state = 'Succeeded' OR state = 'Failed' OR state = 'Deleted'
      ),
    state_reason TEXT,
    run_at INTEGER NOT NULL CONSTRAINT run_at_is_integer_epoch_ms CHECK (typeof(run_at) = 'integer'),
    created_at INTEGER NOT NULL,
    state_changed_at INTEGER NOT NULL,
    attempt INTEGER NOT NULL DEFAULT 0,
    retry_count INTEGER NOT NULL DEFAULT 0,
    retry TEXT CONSTRAINT retry_is_a_json_object CHECK (retry IS NULL OR CASE WHEN json_valid(retry) THEN json_type(retry) = 'object' ELSE 0 END),
    parent_id INTEGER,
    has_continuations INTEGER NOT NULL DEFAULT 0,
    dedup_key TEXT,
    metadata TEXT CONSTRAINT metadata_is_a_json_object CHECK (metadata IS NULL OR CASE WHEN json_valid(metadata) THEN json_type(metadata) = 'object' ELSE 0 END),
    server_name TEXT,
    lease_until INTEGER,
    progress TEXT,
    recurring_id TEXT,
    expires_at INTEGER,
    history TEXT NOT NULL,
    CONSTRAINT processing_has_lease_until CHECK (state <> 'Processing' OR lease_until IS NOT NULL)
  );
  INSERT INTO jobs_checked SELECT * FROM jobs;
  -- AUTOINCREMENT's counter goes along: the id of a deleted job is never handed out again.
  UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'jobs'), 0)) WHERE name = 'jobs_checked';
  INSERT INTO sqlite_sequence (name, seq)
    SELECT 'jobs_checked', seq FROM sqlite_sequence WHERE name = 'jobs' AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'jobs_checked');
  DROP TABLE jobs;
  ALTER TABLE jobs_checked RENAME TO jobs;
  CREATE INDEX jobs_fetch ON jobs (queue, priority DESC, run_at, id) WHERE state = 'Enqueued';
  CREATE INDEX jobs_scheduled ON jobs (run_at) WHERE state = 'Scheduled';
  CREATE INDEX jobs_leases ON jobs (lease_until) WHERE state = 'Processing';
  CREATE INDEX jobs_awaiting ON jobs (parent_id) WHERE state = 'Awaiting';
  CREATE INDEX jobs_expiry ON jobs (expires_at) WHERE expires_at IS NOT NULL;
  CREATE UNIQUE INDEX jobs_dedup ON jobs (dedup_key)
    WHERE dedup_key IS NOT NULL AND state NOT IN ('Succeeded', 'Failed', 'Deleted');
  `,
  /* 3: listing indexes, job counters, outcomes per minute */ `
  -- Newest first by state, and by state within a queue or a type: a page deep into a million jobs is
  -- a range of one of these. Each index costs every write that adds or moves its entries, and each
  -- commit writes the pages it touched to the WAL, so every job's own path is kept to one of them:
  -- Enqueued and Processing (every job passes through both) are in none, and are listed through
  -- jobs_fetch and jobs_leases, which hold them alone; Succeeded (where every job ends) is in the
  -- one by state only, and a page of Succeeded jobs of one queue or type walks it. A job writes its
  -- one entry when it comes to rest. (In bench/sqlite.ts, three indexes written by every job cost
  -- about an eighth of the processing rate; one, a few per cent.) Queries name these predicates term
  -- for term, as SQLite needs to match a partial index.
  CREATE INDEX jobs_by_state ON jobs (state, id) WHERE state <> 'Enqueued' AND state <> 'Processing';
  CREATE INDEX jobs_by_queue ON jobs (queue, state, id) WHERE state <> 'Enqueued' AND state <> 'Processing' AND state <> 'Succeeded';
  CREATE INDEX jobs_by_type ON jobs (type, state, id) WHERE state <> 'Enqueued' AND state <> 'Processing' AND state <> 'Succeeded';

  -- Jobs per queue, type and state, kept by the statements that insert, delete or move jobs, in their
  -- own transaction (one upsert per key per transaction, not per job), so that counting costs the
  -- same with ten jobs or a million. No trigger: a trigger runs a sub-program for every row. Jobs
  -- that reached Succeeded or Failed are counted in a row of the minute they did (its start, epoch
  -- ms; -1, never a minute's start, in the other rows), beside their state's row, until maintenance
  -- moves them into that row and into job_outcomes: a worker's commit then writes this table's page
  -- and not job_outcomes' too (each page a commit writes costs it a WAL frame).
  CREATE TABLE job_counts (
    queue TEXT NOT NULL,
    type TEXT NOT NULL,
    state TEXT NOT NULL,
    minute INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (queue, type, state, minute)
  ) WITHOUT ROWID;
  INSERT INTO job_counts (queue, type, state, minute, n) SELECT queue, type, state, -1, count(*) FROM jobs GROUP BY queue, type, state;

  -- Jobs that reached Succeeded or Failed, per minute (its start, epoch ms): they outlive the jobs.
  -- Seeded from the finished jobs of the last 48 hours (those already deleted are not known).
  CREATE TABLE job_outcomes (
    minute INTEGER PRIMARY KEY,
    succeeded INTEGER NOT NULL,
    failed INTEGER NOT NULL
  );
  INSERT INTO job_outcomes (minute, succeeded, failed)
    SELECT state_changed_at / 60000 * 60000, sum(state = 'Succeeded'), sum(state = 'Failed') FROM jobs
    WHERE (state = 'Succeeded' OR state = 'Failed') AND state_changed_at >= CAST(unixepoch('subsec') * 1000 AS INTEGER) - 172800000
    GROUP BY 1;
  `,
  /* 4: flow control, batches and results */ `
  -- A job's flow control, batch and result. ADD COLUMN rewrites no row: the jobs already there read
  -- NULL (none) in each, and a job without these options stores NULLs, a byte each.
  ALTER TABLE jobs ADD COLUMN concurrency_key TEXT;
  ALTER TABLE jobs ADD COLUMN concurrency_limit INTEGER;
  ALTER TABLE jobs ADD COLUMN rate_limit_key TEXT;
  ALTER TABLE jobs ADD COLUMN rate_limit_max INTEGER;
  ALTER TABLE jobs ADD COLUMN rate_limit_per INTEGER;      -- ms
  ALTER TABLE jobs ADD COLUMN debounce_key TEXT;
  ALTER TABLE jobs ADD COLUMN batch_id TEXT;
  ALTER TABLE jobs ADD COLUMN awaits_batch TEXT;           -- a batch continuation: the batch it waits for
  ALTER TABLE jobs ADD COLUMN awaits_batch_when TEXT;      -- 'succeeded' or 'finished'
  ALTER TABLE jobs ADD COLUMN result TEXT;                 -- JSON: what the handler returned

  -- Each index partial on its column being set: a job without these options writes no entry in any.
  -- Still, every UPDATE of a job's state evaluates the WHERE of each index that names the state (in
  -- its columns or its WHERE): the two that must name it do; the batch indexes name only their own
  -- column, so state changes never touch them (naming the state in both cost about 1.3 µs a job in
  -- a worker's claim and outcome, bench/sqlite.ts's path).
  -- The running jobs of a concurrency key, counted by the claim.
  CREATE INDEX jobs_concurrency_running ON jobs (concurrency_key) WHERE state = 'Processing' AND concurrency_key IS NOT NULL;
  -- At most one waiting job per debounce key, whatever the number of writers.
  CREATE UNIQUE INDEX jobs_debounce ON jobs (debounce_key)
    WHERE debounce_key IS NOT NULL AND (state = 'Enqueued' OR state = 'Scheduled');
  -- A batch's members (counted by state, listed, checked for unfinished ones).
  CREATE INDEX jobs_batch ON jobs (batch_id) WHERE batch_id IS NOT NULL;
  -- Batch continuations (the Awaiting ones are picked from the table's rows).
  CREATE INDEX jobs_awaiting_batch ON jobs (awaits_batch) WHERE awaits_batch IS NOT NULL;

  -- Settings obeyed by every worker; a queue without a row has none (not paused, no limit).
  CREATE TABLE queue_settings (
    queue TEXT PRIMARY KEY,
    paused INTEGER NOT NULL DEFAULT 0,
    concurrency_limit INTEGER,
    rate_limit_max INTEGER,
    rate_limit_per INTEGER,                                -- ms
    updated_at INTEGER NOT NULL
  ) WITHOUT ROWID;

  -- The current fixed window of each rate limit: opened by the first start after the previous window
  -- closed (window_start, ending at window_end), and how many starts it has counted. A job's key
  -- (kind 'job') and a queue's own limit (kind 'queue', key the queue's name) never share a row.
  CREATE TABLE rate_windows (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    window_end INTEGER NOT NULL,
    started INTEGER NOT NULL,
    PRIMARY KEY (kind, key)
  ) WITHOUT ROWID;
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
