import type { PoolLike, Queryable } from './queryable.ts';

/** `work` in a transaction on one connection of `pool`: committed if it resolves, rolled back if it throws. */
export async function inTransaction<T>(pool: PoolLike, work: (client: Queryable) => Promise<T>): Promise<T> {
  const client = await pool.connect();
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
    client.release(broken);
  }
}
