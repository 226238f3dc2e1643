import type pg from 'pg';
import { inPooledTransaction, ValidationError } from 'pilotlight/store-kit';
import { describeValue } from './describe-value.ts';

const DEADLOCK_DETECTED = '40P01';

/**
 * Runs `work` again (up to 3 times in all) if PostgreSQL picked it as the victim of a deadlock: the
 * store locks rows in a consistent order, so this is a safety net, and every `work` computes its
 * result from scratch so that running it again is safe.
 */
export async function retryDeadlock<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if ((error as { code?: string }).code !== DEADLOCK_DETECTED || attempt >= 3) throw error;
    }
  }
}

/** `work` in a transaction on a connection of `pool`: committed if it resolves, rolled back if it throws (store-kit's `inPooledTransaction`). */
export function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return inPooledTransaction<pg.PoolClient, T>(pool, work);
}

/** A `pg` client (`pg.Client`, or a `pg.PoolClient` from `pool.connect()`); a pool is not a transaction. */
export function assertTransaction(transaction: unknown): asserts transaction is pg.ClientBase {
  const candidate = transaction as { query?: unknown; totalCount?: unknown } | null;
  if (candidate === null || typeof candidate !== 'object' || typeof candidate.query !== 'function') {
    throw new ValidationError(`options.transaction must be the pg client you ran BEGIN on; received ${describeValue(transaction)}`);
  }
  if (typeof candidate.totalCount === 'number') {
    throw new ValidationError(
      'options.transaction must be the pg client you ran BEGIN on, not a pg.Pool (each pool query may run on another connection): use const client = await pool.connect()',
    );
  }
}
