/**
 * What the PostgreSQL trace store needs of a `pg.Pool`, typed by its shape: the dashboard has `pg`
 * as an optional peer dependency, so nothing here imports it (a `pg.Pool` fits these as it is).
 */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

/** A connection lent by the pool: `release(true)` destroys it instead (it broke). */
export interface PoolClientLike extends Queryable {
  release(destroy?: boolean): void;
  on(event: 'error', listener: (error: Error) => void): unknown;
  off(event: 'error', listener: (error: Error) => void): unknown;
}

/** A `pg.Pool`: queries on any of its connections, or one connection for a transaction. */
export interface PoolLike extends Queryable {
  connect(): Promise<PoolClientLike>;
}
