import type { PoolLike, Queryable } from './queryable.ts';

/** `work` in a transaction on one connection of `pool`: committed if it resolves, rolled back if it throws. */
export async function inTransaction<T>(pool: PoolLike, work: (client: Queryable) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  // A lent connection has no 'error' listener of the pool's while it is out: if it died between two
  // queries of this transaction, its 'error' event would crash the process. The query in flight, or
  // the next one, fails instead.
  const ignore = (): void => {};
  client.on('error', ignore);
  let broken = false;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    try {
      await client.query('ROLLBACK');
    } catch {
      broken = true; // the connection is gone: the pool must not lend it again
    }
    throw error;
  } finally {
    client.off('error', ignore);
    client.release(broken);
  }
}
