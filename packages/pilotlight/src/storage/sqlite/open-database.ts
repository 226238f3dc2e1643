/** The SQLite store's options, and its connection opened, configured and migrated from them. */

import { DEFAULTS } from '../../config/defaults.ts';
import { ValidationError } from '../../errors.ts';
import { describe } from '../../validation/validate.ts';
import { SqliteConnection } from './connection.ts';
import { migrate } from './migrations.ts';
import { loadNodeSqlite } from './node-sqlite.ts';

export interface SqliteStoreOptions {
  /**
   * The database file. Several processes may open the same file (an API that enqueues, workers
   * that execute). `':memory:'` keeps everything in this process, for tests.
   * @default 'pilotlight.db'
   */
  readonly path?: string;
  /**
   * SQLite's `synchronous` setting. With `'NORMAL'` (WAL mode), a crashed *process* loses nothing
   * committed; a power loss or OS crash may lose the last transactions committed before it (the
   * database stays consistent). `'FULL'` makes every commit durable against power loss too, at
   * the cost of an fsync per commit.
   * @default 'NORMAL'
   */
  readonly synchronous?: 'NORMAL' | 'FULL';
  /**
   * How long a write waits for another process's write to finish before failing, in ms.
   * @default 5000
   */
  readonly busyTimeout?: number;
}

/** Auto-checkpoint threshold (pages): a safety net behind the checkpoint thread. */
const AUTOCHECKPOINT_PAGES = 20_000;

/** Validates `options`, then opens the file in WAL mode and brings its schema to the latest version. */
export function openDatabase(options: SqliteStoreOptions): { path: string; connection: SqliteConnection } {
  const path = options.path ?? 'pilotlight.db';
  const synchronous = options.synchronous ?? DEFAULTS.sqlite.synchronous;
  if (synchronous !== 'NORMAL' && synchronous !== 'FULL') {
    throw new ValidationError(`synchronous must be 'NORMAL' or 'FULL'; received ${describe(synchronous)}`);
  }
  const busyTimeout = options.busyTimeout ?? DEFAULTS.sqlite.busyTimeout;
  if (!Number.isInteger(busyTimeout) || busyTimeout < 0) {
    throw new ValidationError(`busyTimeout must be an integer >= 0 (ms); received ${describe(busyTimeout)}`);
  }
  const { DatabaseSync } = loadNodeSqlite();
  const connection = new SqliteConnection(new DatabaseSync(path), path);
  try {
    connection.exec(`PRAGMA busy_timeout = ${busyTimeout}`);
    connection.exec('PRAGMA journal_mode = WAL');
    connection.exec(`PRAGMA synchronous = ${synchronous}`);
    migrate(connection, path);
  } catch (error) {
    // No store is returned, so nobody could close the connection: do not leak it.
    void connection.close();
    throw error;
  }
  if (path !== ':memory:') connection.exec(`PRAGMA wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
  return { path, connection };
}
