import { ErrorCodes, PilotlightError } from 'pilotlight';
import type { Queryable } from './queryable.ts';

/**
 * Versioned schema of the PostgreSQL trace store, beside the job store's tables in the same schema
 * (those are jobs, recurring_jobs, servers, job_counts, job_count_deltas, job_outcomes and
 * migrations: every table here starts with trace_). Each entry is a function of the quoted schema
 * and runs once, in order, inside the migration transaction. Never edit a shipped migration:
 * append one.
 */
export const POSTGRES_TRACE_MIGRATIONS: readonly ((s: string) => string)[] = [
  /* 1: spans and their resources */ (s) => `
  CREATE TABLE ${s}.trace_resources (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,          -- of the attributes' JSON (resources.ts)
    service TEXT COLLATE "C" NOT NULL,
    attributes JSONB NOT NULL,
    last_start_us BIGINT NOT NULL       -- the latest start of its spans: retention deletes the resource once older than every span
  );

  CREATE TABLE ${s}.trace_spans (
    -- Insertion order, the tie-breaker of newest-first pages. No primary key on it: retention
    -- deletes by ctid, and every index costs every span written.
    seq BIGINT GENERATED ALWAYS AS IDENTITY,
    -- "C": LIKE prefixes become ranges of the indexes, and text orders by code point as on SQLite.
    trace_id TEXT COLLATE "C" NOT NULL,
    span_id TEXT COLLATE "C" NOT NULL,
    parent_span_id TEXT,                -- NULL for a root span
    name TEXT COLLATE "C" NOT NULL,
    kind TEXT NOT NULL,
    status_code TEXT NOT NULL,
    status_message TEXT,
    start_us BIGINT NOT NULL,           -- epoch microseconds
    end_us BIGINT NOT NULL,
    duration_us BIGINT NOT NULL,
    service TEXT COLLATE "C" NOT NULL,  -- the resource's service.name, copied for its index
    resource_id BIGINT NOT NULL,
    scope_name TEXT NOT NULL,
    scope_version TEXT,
    -- jsonb, read by -> in attribute conditions: an index of attributes would cost every span
    -- several index entries at tens of thousands of spans a second; attribute conditions scan,
    -- bounded. Events and links are only read back: json keeps their text, cheaper to write.
    attributes JSONB NOT NULL,
    events JSON NOT NULL,
    links JSON NOT NULL
  );
  -- An exporter's retry replaces the span by this key, and a trace's spans are read through it (then
  -- sorted by start: a trace is small); a second index on the random trace id would cost every write.
  CREATE UNIQUE INDEX trace_spans_id ON ${s}.trace_spans (trace_id, span_id);
  CREATE INDEX trace_spans_start ON ${s}.trace_spans (start_us, seq);
  CREATE INDEX trace_spans_roots ON ${s}.trace_spans (start_us, seq) WHERE parent_span_id IS NULL;
  CREATE INDEX trace_spans_name ON ${s}.trace_spans (name, start_us);
  CREATE INDEX trace_spans_service ON ${s}.trace_spans (service, start_us);
  CREATE INDEX trace_spans_duration ON ${s}.trace_spans (duration_us);

  -- The spans stored, kept by the statements that insert and delete them: count(*) would read
  -- every row's visibility (the whole table, where autovacuum lags).
  CREATE TABLE ${s}.trace_span_count (n BIGINT NOT NULL);
  INSERT INTO ${s}.trace_span_count (n) VALUES (0);
  `,
];

/**
 * The job store's migration lock ('pilo' in ASCII, with hashtext(schema)): both stores create the
 * schema if missing, and CREATE SCHEMA IF NOT EXISTS is not safe against a concurrent creation.
 */
const MIGRATION_LOCK_CLASS = 0x70696c6f;

/**
 * Brings the trace tables of `schema` (quoted: `s`) to the latest version, inside the caller's
 * transaction; processes starting at once queue on the advisory lock, and each migration runs once.
 */
export async function migrate(client: Queryable, schema: string, s: string): Promise<void> {
  await client.query('SET LOCAL statement_timeout = 0');
  await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [MIGRATION_LOCK_CLASS, schema]);
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
  await client.query(
    `CREATE TABLE IF NOT EXISTS ${s}.trace_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
  );
  const { rows } = await client.query(`SELECT coalesce(max(version), 0) AS version FROM ${s}.trace_migrations`);
  const version = Number(rows[0]!.version);
  if (version > POSTGRES_TRACE_MIGRATIONS.length) {
    throw new PilotlightError(
      ErrorCodes.SCHEMA_TOO_NEW,
      `The trace tables of schema ${schema} have version ${version}, newer than this dashboard knows (${POSTGRES_TRACE_MIGRATIONS.length}): upgrade @pilotlight/dashboard to the version that wrote them, or later`,
    );
  }
  for (let next = version + 1; next <= POSTGRES_TRACE_MIGRATIONS.length; next++) {
    await client.query(POSTGRES_TRACE_MIGRATIONS[next - 1]!(s));
    await client.query(`INSERT INTO ${s}.trace_migrations (version) VALUES ($1)`, [next]);
  }
}
