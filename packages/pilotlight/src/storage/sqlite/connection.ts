import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { StoreClosedError } from '../../errors.ts';

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

  /**
   * `work` in a write transaction: committed if it returns, rolled back if it throws. `BEGIN
   * IMMEDIATE` takes the write lock up front, so two processes never deadlock upgrading a read lock.
   */
  transaction<T>(work: () => T): T {
    this.statement('BEGIN IMMEDIATE').run();
    try {
      const result = work();
      this.statement('COMMIT').run();
      return result;
    } catch (error) {
      this.#db.exec('ROLLBACK');
      throw error;
    }
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
