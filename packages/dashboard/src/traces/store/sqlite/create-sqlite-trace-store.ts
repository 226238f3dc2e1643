import { ValidationError } from 'pilotlight';
import { loadNodeSqlite, startCheckpointer } from 'pilotlight/store-kit';
import type { TraceStore } from '../../../spans/trace-store.ts';
import { migrate } from './sqlite-migrations.ts';
import { SqliteTraceStore } from './sqlite-trace-store.ts';

export interface SqliteTraceStoreOptions {
  /** The file of the spans, created if missing: its own, not the job store's (`'traces.db'`). */
  readonly path: string;
}

/** How long a statement waits for another connection's write lock (another process on the file) before failing, in ms. */
const BUSY_TIMEOUT_MS = 5_000;
/** Auto-checkpoint threshold (pages): a safety net behind the checkpoint thread, as in the job store. */
const AUTOCHECKPOINT_PAGES = 20_000;

/**
 * Opens (or creates) the SQLite file of the dashboard's spans, bringing its schema up to date.
 * Throws `SCHEMA_TOO_NEW` for a file a newer dashboard wrote, `UNSUPPORTED_RUNTIME` on a Node.js
 * without `node:sqlite`.
 */
export function createSqliteTraceStore(options: SqliteTraceStoreOptions): TraceStore {
  const path = (options as SqliteTraceStoreOptions | undefined)?.path;
  if (typeof path !== 'string' || path.trim() === '') {
    throw new ValidationError(
      `createSqliteTraceStore() options.path must be the file of the spans ('traces.db'); received ${JSON.stringify(path)}`,
    );
  }
  const { DatabaseSync } = loadNodeSqlite({ name: 'The SQLite trace store', alternative: 'use createPostgresTraceStore()' });
  const db = new DatabaseSync(path);
  try {
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.exec('PRAGMA journal_mode = WAL');
    // Spans are telemetry: in WAL mode, NORMAL syncs at checkpoints rather than at every commit, so
    // a commit survives the process crashing but a power loss may lose the last ones. Losing a few
    // seconds of spans then is worth not waiting for the disk on every write of 20,000 spans a second.
    db.exec('PRAGMA synchronous = NORMAL');
    // Checkpoints copy the WAL into the file and sync it: run by a commit (auto-checkpoint every 1,000
    // pages, a few writes of spans), they took about a quarter of the write time, on the event loop.
    // A thread of their own runs them instead; auto-checkpoint stays, far higher, as a safety net.
    db.exec(`PRAGMA wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
    migrate(db, path);
    // ANALYZE reads at most about this many rows of each index (a million spans would take seconds);
    // then the statistics as SQLite recommends for a long-lived connection (see prune()).
    db.exec('PRAGMA analysis_limit = 1000');
    db.exec('PRAGMA optimize = 0x10002');
  } catch (error) {
    db.close();
    throw error;
  }
  return new SqliteTraceStore(db, path, startCheckpointer(path));
}
