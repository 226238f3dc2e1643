import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { StoreClosedError, StoreFullError } from '../../errors.ts';

/**
 * The SQLite store's one connection: its prepared statements, cached by SQL text, and its write
 * transactions. Once closed, every call throws a `StoreClosedError`.
 */
export class SqliteConnection {
  readonly #db: DatabaseSync;
  readonly #path: string;
  readonly #statements = new Map<string, StatementSync>();
  #closed = false;

  constructor(db: DatabaseSync, path: string) {
    this.#db = db;
    this.#path = path;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Runs SQL text that returns nothing (PRAGMAs, migrations), unprepared. */
  exec(sql: string): void {
    this.#assertOpen();
    this.#db.exec(sql);
  }

  /** The prepared statement for `sql`, prepared on first use. */
  statement(sql: string): StatementSync {
    this.#assertOpen();
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** `work`, a write outside any transaction (one statement, auto-committed), its errors translated as a transaction's. */
  write<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      throw this.#translate(error);
    }
  }

  /**
   * `work` in a write transaction: committed if it returns, rolled back if it throws. `BEGIN
   * IMMEDIATE` takes the write lock up front, so two processes never deadlock upgrading a read lock.
   */
  transaction<T>(work: () => T): T {
    try {
      this.statement('BEGIN IMMEDIATE').run();
      try {
        const result = work();
        this.statement('COMMIT').run();
        return result;
      } catch (error) {
        this.#rollback();
        throw error;
      }
    } catch (error) {
      throw this.#translate(error);
    }
  }

  /**
   * Rolls back the transaction under way, if there is one: on some errors (`SQLITE_FULL`,
   * `SQLITE_IOERR`, `SQLITE_NOMEM`) SQLite has already rolled it back itself, and a `ROLLBACK` then
   * throws "cannot rollback - no transaction is active", which must not replace the real error.
   */
  #rollback(): void {
    if (!this.#db.isTransaction) return;
    try {
      this.#db.exec('ROLLBACK');
    } catch {
      // The error that made us roll back is the one to report.
    }
  }

  /** SQLite's "database or disk is full" as a `StoreFullError` (its cause the SQLite error); other errors as they are. */
  #translate(error: unknown): unknown {
    if (!isFull(error)) return error;
    return new StoreFullError(
      `The SQLite store ${this.#path} could not write: ${(error as Error).message}. Nothing of this write was kept. Free space on the disk (or raise the volume's size or the database's max_page_count); writes succeed again then, and workers retry the outcomes of finished jobs meanwhile`,
      { cause: error },
    );
  }

  /**
   * Refuses every call from now on, waits for `others` (the connections of other threads to the same
   * file) to end, then closes the database: the last connection closed removes the WAL file. Without
   * `others`, closes at once.
   */
  async close(others?: Promise<void>): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#statements.clear();
    try {
      if (others) await others;
    } finally {
      this.#db.close();
    }
  }

  #assertOpen(): void {
    if (this.#closed)
      throw new StoreClosedError(
        `The SQLite store ${this.#path} is closed: create a new store (createSqliteStore()) to use the database again`,
      );
  }
}

/** SQLITE_FULL, the primary result code of "database or disk is full" (extended codes keep it in the low byte). */
const SQLITE_FULL = 13;

function isFull(error: unknown): boolean {
  const errcode = (error as { errcode?: unknown } | null)?.errcode;
  return typeof errcode === 'number' && (errcode & 0xff) === SQLITE_FULL;
}
