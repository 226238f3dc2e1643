/**
 * A connection lent by a pool, as a transaction needs it: typed by its shape, so that a store on any
 * driver can use it without this package depending on the driver (a `pg.PoolClient` fits as it is).
 */
export interface PooledConnection {
  query(text: string): Promise<unknown>;
  /** Hands the connection back; `true`: it broke, and the pool must destroy it rather than lend it again. */
  release(destroy?: boolean): void;
  on(event: 'error', listener: (error: Error) => void): unknown;
  off(event: 'error', listener: (error: Error) => void): unknown;
}

/**
 * `work` in a transaction on a connection of `pool`: committed if it resolves, rolled back if it
 * throws. While the connection is lent, it has an 'error' listener of its own: a connection of a
 * pool that is not the store's has none then, and if it died between two statements of the
 * transaction its 'error' event would crash the process; the statement in flight, or the next one,
 * fails instead. A connection that cannot even roll back is released as broken.
 */
export async function inPooledTransaction<Connection extends PooledConnection, T>(
  pool: { connect(): Promise<Connection> },
  work: (connection: Connection) => Promise<T>,
): Promise<T> {
  const connection = await pool.connect();
  const ignore = (): void => {};
  connection.on('error', ignore);
  let broken = false;
  try {
    await connection.query('BEGIN');
    const result = await work(connection);
    await connection.query('COMMIT');
    return result;
  } catch (error) {
    try {
      await connection.query('ROLLBACK');
    } catch {
      broken = true; // the connection is gone: do not hand it back to the pool
    }
    throw error;
  } finally {
    connection.off('error', ignore);
    connection.release(broken);
  }
}
