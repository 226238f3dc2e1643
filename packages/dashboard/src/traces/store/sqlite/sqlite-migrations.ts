import type { DatabaseSync } from 'node:sqlite';
import { ErrorCodes, PilotlightError, ValidationError } from 'pilotlight';

/**
 * Versioned schema of the SQLite trace store, its version in `PRAGMA user_version` (the file is the
 * trace store's alone). Each entry runs once, in order, inside the migration transaction; a file at
 * a higher version than this code knows is refused. Never edit a shipped migration: append one.
 */
export const SQLITE_TRACE_MIGRATIONS: readonly string[] = [
  /* 1: spans and their resources */ `
  CREATE TABLE trace_resources (
    id INTEGER PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,          -- of the attributes' JSON (resources.ts)
    service TEXT NOT NULL,
    attributes TEXT NOT NULL,           -- JSON object
    last_start_us INTEGER NOT NULL      -- the latest start of its spans: retention deletes the resource once older than every span
  );

  CREATE TABLE trace_spans (
    seq INTEGER PRIMARY KEY,            -- the rowid: insertion order, the tie-breaker of newest-first pages
    trace_id TEXT NOT NULL,
    span_id TEXT NOT NULL,
    parent_span_id TEXT,                -- NULL for a root span
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    status_code TEXT NOT NULL,
    status_message TEXT,
    start_us INTEGER NOT NULL,          -- epoch microseconds
    end_us INTEGER NOT NULL,
    duration_us INTEGER NOT NULL,
    service TEXT NOT NULL,              -- the resource's service.name, copied for its index
    resource_id INTEGER NOT NULL,
    scope_name TEXT NOT NULL,
    scope_version TEXT,
    -- JSON, read by json_type() and ->: an index of attributes would cost every span several index
    -- entries at tens of thousands of spans a second; attribute conditions scan, bounded.
    attributes TEXT NOT NULL,
    events TEXT NOT NULL,
    links TEXT NOT NULL
  );
  -- Each index costs every span written. An exporter's retry replaces the span by this key, and a
  -- trace's spans are read through it (then sorted by start: a trace is small). An index on
  -- (trace_id, start_us) beside it would put a second random key in every write, for a sort saved.
  CREATE UNIQUE INDEX trace_spans_id ON trace_spans (trace_id, span_id);
  -- Newest first (the rowid, in every index, orders equal starts), and retention's oldest first.
  CREATE INDEX trace_spans_start ON trace_spans (start_us);
  CREATE INDEX trace_spans_roots ON trace_spans (start_us) WHERE parent_span_id IS NULL;
  CREATE INDEX trace_spans_name ON trace_spans (name, start_us);
  CREATE INDEX trace_spans_service ON trace_spans (service, start_us);
  CREATE INDEX trace_spans_duration ON trace_spans (duration_us);
  `,
];

/** Brings the file to the latest version in one transaction; refuses a newer one, and a job store's file. */
export function migrate(db: DatabaseSync, path: string): void {
  db.exec('BEGIN IMMEDIATE');
  try {
    const { user_version: version } = db.prepare('PRAGMA user_version').get() as { user_version: number };
    if (version > SQLITE_TRACE_MIGRATIONS.length) {
      throw new PilotlightError(
        ErrorCodes.SCHEMA_TOO_NEW,
        `The trace store ${path} has schema version ${version}, newer than this dashboard knows (${SQLITE_TRACE_MIGRATIONS.length}): upgrade @pilotlight/dashboard to the version that wrote it, or later`,
      );
    }
    if (version === 0 && db.prepare("SELECT 1 FROM sqlite_schema WHERE name = 'pilotlight_migrations'").get() !== undefined) {
      throw new ValidationError(
        `createSqliteTraceStore() options.path ${path} is a Pilotlight job store's file: give the traces a file of their own (traces.db)`,
      );
    }
    for (let next = version + 1; next <= SQLITE_TRACE_MIGRATIONS.length; next++) db.exec(SQLITE_TRACE_MIGRATIONS[next - 1]!);
    // A PRAGMA takes no parameter; the version is a number of ours.
    if (version < SQLITE_TRACE_MIGRATIONS.length) db.exec(`PRAGMA user_version = ${SQLITE_TRACE_MIGRATIONS.length}`);
    db.exec('COMMIT');
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw error;
  }
}
